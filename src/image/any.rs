//! Dtype-erased images for the front ends (file I/O, `apply`, `bench`), which learn
//! the pixel type only at run time. Kernels themselves stay generic or typed.

use super::{DType, Image, ImageView, ImageViewMut, Pixel};
use crate::{Error, Result};

macro_rules! any_enums {
    ($($d:ident($t:ty)),*) => {
        /// An owned image of any supported pixel type.
        #[derive(Clone, Debug, PartialEq)]
        pub enum AnyImage { $($d(Image<$t>)),* }

        /// A borrowed view of any supported pixel type.
        #[derive(Clone, Copy, Debug)]
        pub enum AnyView<'a> { $($d(ImageView<'a, $t>)),* }

        /// A mutable view of any supported pixel type.
        #[derive(Debug)]
        pub enum AnyViewMut<'a> { $($d(ImageViewMut<'a, $t>)),* }

        impl AnyImage {
            /// A zeroed image of the given type and size.
            pub fn new(dtype: DType, width: usize, height: usize) -> Result<Self> {
                Ok(match dtype { $(DType::$d => AnyImage::$d(Image::new(width, height)?)),* })
            }
            pub fn dtype(&self) -> DType {
                match self { $(AnyImage::$d(_) => DType::$d),* }
            }
            pub fn size(&self) -> (usize, usize) {
                match self { $(AnyImage::$d(i) => i.size()),* }
            }
            pub fn as_view(&self) -> AnyView<'_> {
                match self { $(AnyImage::$d(i) => AnyView::$d(i.as_view())),* }
            }
            pub fn as_view_mut(&mut self) -> AnyViewMut<'_> {
                match self { $(AnyImage::$d(i) => AnyViewMut::$d(i.as_view_mut())),* }
            }
        }

        impl<'a> AnyView<'a> {
            pub fn dtype(&self) -> DType {
                match self { $(AnyView::$d(_) => DType::$d),* }
            }
            pub fn size(&self) -> (usize, usize) {
                match self { $(AnyView::$d(v) => v.size()),* }
            }
            /// Copies into an owned image.
            pub fn to_image(&self) -> AnyImage {
                match self { $(AnyView::$d(v) => AnyImage::$d(v.to_image())),* }
            }
        }

        impl<'a> AnyViewMut<'a> {
            pub fn dtype(&self) -> DType {
                match self { $(AnyViewMut::$d(_) => DType::$d),* }
            }
            pub fn size(&self) -> (usize, usize) {
                match self { $(AnyViewMut::$d(v) => v.size()),* }
            }
        }
    };
}
any_enums!(U8(u8), U16(u16), F32(f32), I32(i32), U32(u32), F64(f64));

fn wrong_dtype(what: &str, want: DType, got: DType) -> Error {
    Error::UnsupportedDtype(format!("{what} must be {want}, got {got}"))
}

impl<'a> AnyView<'a> {
    /// The typed view inside, or an error naming both types.
    pub fn typed<T: Pixel>(self) -> Result<ImageView<'a, T>> {
        let got = self.dtype();
        T::view_of(self).ok_or_else(|| wrong_dtype("input", T::DTYPE, got))
    }
}

impl<'a> AnyViewMut<'a> {
    /// The typed mutable view inside, or an error naming both types.
    pub fn typed<T: Pixel>(self) -> Result<ImageViewMut<'a, T>> {
        let got = self.dtype();
        T::view_mut_of(self).ok_or_else(|| wrong_dtype("output", T::DTYPE, got))
    }
}

impl<T: Pixel> From<Image<T>> for AnyImage {
    fn from(img: Image<T>) -> Self {
        T::erase(img)
    }
}

impl<'a, T: Pixel> From<ImageView<'a, T>> for AnyView<'a> {
    fn from(v: ImageView<'a, T>) -> Self {
        T::erase_view(v)
    }
}
