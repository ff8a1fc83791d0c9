//! frameline: real-time image processing for edge boards.
//!
//! Kernels take borrowed views ([`ImageView`], [`ImageViewMut`]) and write into
//! caller-owned output. Each kernel family has a scalar reference beside its AVX2,
//! AVX-512 and NEON variants; the SIMD level is detected once at run time and can be
//! forced lower ([`simd::force_level`] or `FRAMELINE_SIMD`).

// Kernels index taps and rows by number, as the formulas in their comments do.
#![allow(clippy::needless_range_loop)]

pub mod bench;
pub mod capture;
pub mod error;
pub mod image;
pub mod kernels;
pub mod ladder;
pub mod ops;
pub mod pipeline;
pub mod simd;
pub mod testing;
pub mod timing;

pub use error::{Error, Result};
pub use image::{AnyImage, AnyView, AnyViewMut, DType, Image, ImageView, ImageViewMut, Pixel};
pub use simd::SimdLevel;

// The README's Rust example compiles as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
