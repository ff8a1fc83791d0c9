//! Owned images whose rows start on 64-byte boundaries (a cache line, and one AVX-512
//! register), so SIMD loads of a row never straddle a line at its start.

use super::storage::Storage;
use super::{ImageView, ImageViewMut, Pixel, check_layout};
use crate::{Error, Result};

/// Alignment of every row of an [`Image`] made by [`Image::new`], in bytes.
pub const ROW_ALIGN_BYTES: usize = 64;

/// An owned image. Made by [`Image::new`] its rows are 64-byte aligned and the stride
/// is padded; made by [`Image::from_vec`] it adopts a packed buffer without copying.
#[derive(Debug)]
pub struct Image<T> {
    buf: Storage<T>,
    /// Elements skipped at the start of `buf` to reach an aligned address.
    offset: usize,
    width: usize,
    height: usize,
    stride: usize,
}

impl<T: Pixel> Image<T> {
    /// A zeroed `width`x`height` image with aligned, padded rows.
    pub fn new(width: usize, height: usize) -> Result<Self> {
        Self::filled(width, height, T::default())
    }

    /// A `width`x`height` image with every pixel (and the padding) set to `value`.
    pub fn filled(width: usize, height: usize, value: T) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::ZeroSize { width, height });
        }
        let elem = size_of::<T>();
        let per_line = ROW_ALIGN_BYTES / elem;
        let too_large = || Error::TooLarge { width, height };
        let stride = width
            .checked_next_multiple_of(per_line)
            .ok_or_else(too_large)?;
        let len = stride
            .checked_mul(height)
            .and_then(|n| n.checked_add(per_line))
            .filter(|&n| {
                n.checked_mul(elem)
                    .is_some_and(|b| b <= isize::MAX as usize)
            })
            .ok_or_else(too_large)?;
        // An allocation the machine cannot satisfy is an error, not an abort.
        let buf = Storage::filled(len, value).ok_or_else(too_large)?;
        // `align_offset` may in principle decline (usize::MAX); rows then stay unaligned,
        // which costs speed, never correctness.
        let offset = match buf.as_slice().as_ptr().align_offset(ROW_ALIGN_BYTES) {
            o if o < per_line => o,
            _ => 0,
        };
        Ok(Image {
            buf,
            offset,
            width,
            height,
            stride,
        })
    }

    /// An image whose pixel at `(x, y)` is `f(x, y)`.
    pub fn from_fn(
        width: usize,
        height: usize,
        mut f: impl FnMut(usize, usize) -> T,
    ) -> Result<Self> {
        let mut img = Self::new(width, height)?;
        for (y, row) in img.as_view_mut().rows_mut().enumerate() {
            for (x, p) in row.iter_mut().enumerate() {
                *p = f(x, y);
            }
        }
        Ok(img)
    }

    /// Adopts a packed buffer (`stride == width`) without copying.
    pub fn from_vec(data: Vec<T>, width: usize, height: usize) -> Result<Self> {
        check_layout(width, height, width, data.len())?;
        Ok(Image {
            buf: Storage::Heap(data),
            offset: 0,
            width,
            height,
            stride: width,
        })
    }

    /// The pixels as a packed `Vec` (row after row, no padding); no copy when the
    /// image is already packed at the start of its buffer.
    pub fn into_vec(self) -> Vec<T> {
        let (n, packed) = (
            self.width * self.height,
            self.offset == 0 && self.stride == self.width,
        );
        let this = match self.buf.into_heap() {
            Ok(mut buf) if packed => {
                buf.truncate(n);
                return buf;
            }
            Ok(buf) => Image {
                buf: Storage::Heap(buf),
                ..self
            },
            Err(pages) => Image { buf: pages, ..self },
        };
        let mut out = Vec::with_capacity(n);
        for row in this.as_view().rows() {
            out.extend_from_slice(row);
        }
        out
    }

    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    /// Distance between the starts of two rows, in elements.
    pub fn stride(&self) -> usize {
        self.stride
    }
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    pub fn as_view(&self) -> ImageView<'_, T> {
        ImageView::new(
            &self.buf.as_slice()[self.offset..],
            self.width,
            self.height,
            self.stride,
        )
        .expect("an Image always holds a valid layout")
    }

    pub fn as_view_mut(&mut self) -> ImageViewMut<'_, T> {
        ImageViewMut::new(
            &mut self.buf.as_mut_slice()[self.offset..],
            self.width,
            self.height,
            self.stride,
        )
        .expect("an Image always holds a valid layout")
    }

    pub fn row(&self, y: usize) -> &[T] {
        let start = self.offset + y * self.stride;
        assert!(y < self.height, "row {y} out of {} rows", self.height);
        &self.buf.as_slice()[start..start + self.width]
    }

    pub fn row_mut(&mut self, y: usize) -> &mut [T] {
        let start = self.offset + y * self.stride;
        assert!(y < self.height, "row {y} out of {} rows", self.height);
        &mut self.buf.as_mut_slice()[start..start + self.width]
    }

    pub fn get(&self, x: usize, y: usize) -> Option<T> {
        (x < self.width && y < self.height)
            .then(|| self.buf.as_slice()[self.offset + y * self.stride + x])
    }
}

/// A clone has freshly aligned rows (a derived clone would copy the old offset into a
/// new allocation, which need not be aligned the same way).
impl<T: Pixel> Clone for Image<T> {
    fn clone(&self) -> Self {
        if let (Storage::Heap(buf), 0) = (&self.buf, self.offset)
            && self.stride == self.width
        {
            // Packed (adopted) images stay packed.
            return Image {
                buf: Storage::Heap(buf.clone()),
                ..*self
            };
        }
        self.as_view().to_image()
    }
}

/// Pixel-wise equality; padding is ignored.
impl<T: Pixel> PartialEq for Image<T> {
    fn eq(&self, other: &Self) -> bool {
        self.size() == other.size() && self.as_view().rows().eq(other.as_view().rows())
    }
}

// Zero-copy moves between `Image` and the `image` crate's single-channel buffers.
macro_rules! image_buffer_conversions {
    ($($t:ty),*) => {$(
        impl TryFrom<image::ImageBuffer<image::Luma<$t>, Vec<$t>>> for Image<$t> {
            type Error = Error;
            /// No copy: the buffer is adopted with `stride == width`.
            fn try_from(buf: image::ImageBuffer<image::Luma<$t>, Vec<$t>>) -> Result<Self> {
                let (w, h) = buf.dimensions();
                Image::from_vec(buf.into_raw(), w as usize, h as usize)
            }
        }
        impl Image<$t> {
            /// Moves into the `image` crate's buffer type: no copy when the image is
            /// packed; padded images are packed first.
            pub fn into_luma_buffer(self) -> Result<image::ImageBuffer<image::Luma<$t>, Vec<$t>>> {
                let too_large = |_| Error::TooLarge { width: self.width, height: self.height };
                let w = u32::try_from(self.width).map_err(too_large)?;
                let h = u32::try_from(self.height).map_err(too_large)?;
                Ok(image::ImageBuffer::from_raw(w, h, self.into_vec())
                    .expect("into_vec yields exactly width * height pixels"))
            }
        }
    )*};
}
image_buffer_conversions!(u8, u16, f32);
