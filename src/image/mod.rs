//! Images: borrowed views with a row stride, owned images with 64-byte aligned rows,
//! a dtype-erased [`AnyImage`] for front ends, and file I/O (PNG, PGM, JPEG, `.npy`).
//!
//! Strides are counted in elements, not bytes. A view of `height` rows needs
//! `(height - 1) * stride + width` elements: the last row need not be padded, so a
//! sub-rectangle of a larger image is a view without copying.

mod any;
mod io;
pub mod npy;
mod owned;
mod storage;
mod view;

pub use any::{AnyImage, AnyView, AnyViewMut};
pub use io::{load, save};
pub use owned::{Image, ROW_ALIGN_BYTES};
pub use storage::HUGE_PAGE_MIN_BYTES;
pub use view::{ImageView, ImageViewMut};

use std::fmt;

/// The element types frameline images hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    U8,
    U16,
    F32,
    I32,
    U32,
    F64,
}

impl DType {
    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::U8 => 1,
            DType::U16 => 2,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 => 8,
        }
    }

    /// The lower-case name used on the command line and in JSON (`u8`, `f32`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            DType::U8 => "u8",
            DType::U16 => "u16",
            DType::F32 => "f32",
            DType::I32 => "i32",
            DType::U32 => "u32",
            DType::F64 => "f64",
        }
    }

    /// Parses a name as printed by [`DType::name`].
    pub fn parse(s: &str) -> Option<DType> {
        [
            DType::U8,
            DType::U16,
            DType::F32,
            DType::I32,
            DType::U32,
            DType::F64,
        ]
        .into_iter()
        .find(|d| d.name() == s)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An element type an image can hold: plain-old-data numbers.
pub trait Pixel:
    Copy + Default + PartialEq + fmt::Debug + Send + Sync + 'static + bytemuck::Pod + sealed::Sealed
{
    /// The matching runtime tag.
    const DTYPE: DType;
    /// Wraps an owned image into the dtype-erased enum.
    fn erase(img: Image<Self>) -> AnyImage;
    /// Wraps a view into the dtype-erased enum.
    fn erase_view(v: ImageView<'_, Self>) -> AnyView<'_>;
    /// The typed view inside `v`, if `v` holds this type.
    fn view_of(v: AnyView<'_>) -> Option<ImageView<'_, Self>>;
    /// The typed mutable view inside `v`, if `v` holds this type.
    fn view_mut_of(v: AnyViewMut<'_>) -> Option<ImageViewMut<'_, Self>>;
}

macro_rules! impl_pixel {
    ($($t:ty => $d:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Pixel for $t {
            const DTYPE: DType = DType::$d;
            fn erase(img: Image<Self>) -> AnyImage { AnyImage::$d(img) }
            fn erase_view(v: ImageView<'_, Self>) -> AnyView<'_> { AnyView::$d(v) }
            fn view_of(v: AnyView<'_>) -> Option<ImageView<'_, Self>> {
                match v { AnyView::$d(v) => Some(v), _ => None }
            }
            fn view_mut_of(v: AnyViewMut<'_>) -> Option<ImageViewMut<'_, Self>> {
                match v { AnyViewMut::$d(v) => Some(v), _ => None }
            }
        }
    )*};
}
impl_pixel!(u8 => U8, u16 => U16, f32 => F32, i32 => I32, u32 => U32, f64 => F64);

/// Checks a (width, height, stride, buffer length) quadruple and returns the number
/// of elements the image spans. The one place the layout rules live.
pub(crate) fn check_layout(
    width: usize,
    height: usize,
    stride: usize,
    len: usize,
) -> crate::Result<usize> {
    use crate::Error;
    if width == 0 || height == 0 {
        return Err(Error::ZeroSize { width, height });
    }
    if stride < width {
        return Err(Error::BadStride { width, stride });
    }
    let needed = (height - 1)
        .checked_mul(stride)
        .and_then(|n| n.checked_add(width))
        .ok_or(Error::TooLarge { width, height })?;
    if len < needed {
        return Err(Error::BufferTooShort {
            len,
            needed,
            width,
            height,
            stride,
        });
    }
    Ok(needed)
}

/// Returns an error unless `(w, h)` equals `(want_w, want_h)`.
pub(crate) fn check_same_size(
    what: &'static str,
    (want_w, want_h): (usize, usize),
    (got_w, got_h): (usize, usize),
) -> crate::Result<()> {
    if (want_w, want_h) == (got_w, got_h) {
        Ok(())
    } else {
        Err(crate::Error::SizeMismatch {
            what,
            want_w,
            want_h,
            got_w,
            got_h,
        })
    }
}
