//! The kernels, one folder per operation family. Each family's `mod.rs` validates
//! shapes, picks the SIMD level once and dispatches; `scalar.rs` is the reference every
//! SIMD variant (`avx2.rs`, `avx512.rs`, `neon.rs`) is tested against.

/// Outputs at least this large are written with non-temporal (streaming) stores on x86
/// where measured to pay (flat_field, row_ema): a frame that does not fit the cache
/// would otherwise be read into it before each line is overwritten (4 more bytes per
/// pixel of memory traffic for f32 output). Smaller outputs stay cached for the next
/// stage.
pub const STREAM_MIN_BYTES: usize = 16 << 20;

pub mod border;
pub mod boxfilter;
pub(crate) mod colsums;
pub mod components;
pub mod copy;
pub mod dither;
pub mod flatfield;
pub mod gamma;
pub mod gaussian;
pub mod integral;
pub mod localstats;
pub mod lut;
pub mod median;
pub mod morphology;
pub(crate) mod parallel;
pub mod scan;
pub mod threshold;
pub mod window;
