//! Borrowed image views: a slice, a width, a height and a row stride (in elements).

use super::{Image, Pixel, check_layout};
use crate::{Error, Result};

/// An immutable view of `height` rows of `width` pixels, rows `stride` elements apart.
#[derive(Clone, Copy, Debug)]
pub struct ImageView<'a, T> {
    data: &'a [T],
    width: usize,
    height: usize,
    stride: usize,
}

/// A mutable view: like [`ImageView`], but the pixels can be written.
#[derive(Debug)]
pub struct ImageViewMut<'a, T> {
    data: &'a mut [T],
    width: usize,
    height: usize,
    stride: usize,
}

fn rect_inside(
    (x, y, w, h): (usize, usize, usize, usize),
    width: usize,
    height: usize,
) -> Result<()> {
    let fits = w > 0
        && h > 0
        && x.checked_add(w).is_some_and(|r| r <= width)
        && y.checked_add(h).is_some_and(|b| b <= height);
    if fits {
        Ok(())
    } else {
        Err(Error::RectOutside {
            x,
            y,
            w,
            h,
            width,
            height,
        })
    }
}

impl<'a, T: Pixel> ImageView<'a, T> {
    /// A view over `data` with an explicit stride. Errors on zero sizes, a stride below
    /// the width, or a buffer too short for the last row.
    pub fn new(data: &'a [T], width: usize, height: usize, stride: usize) -> Result<Self> {
        let needed = check_layout(width, height, stride, data.len())?;
        Ok(ImageView {
            data: &data[..needed],
            width,
            height,
            stride,
        })
    }

    /// A view over tightly packed rows (`stride == width`).
    pub fn from_slice(data: &'a [T], width: usize, height: usize) -> Result<Self> {
        Self::new(data, width, height, width)
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
    /// `(width, height)`.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }
    /// True when rows follow each other without padding.
    pub fn is_contiguous(&self) -> bool {
        self.stride == self.width || self.height == 1
    }

    /// Row `y` (exactly `width` pixels). Panics if `y >= height`, like slice indexing.
    pub fn row(&self, y: usize) -> &'a [T] {
        assert!(y < self.height, "row {y} out of {} rows", self.height);
        let start = y * self.stride;
        &self.data[start..start + self.width]
    }

    /// The rows, top to bottom.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &'a [T]> + DoubleEndedIterator + 'a {
        let (data, width, stride) = (self.data, self.width, self.stride);
        (0..self.height).map(move |y| &data[y * stride..y * stride + width])
    }

    /// The pixel at column `x`, row `y`, if inside.
    pub fn get(&self, x: usize, y: usize) -> Option<T> {
        (x < self.width && y < self.height).then(|| self.data[y * self.stride + x])
    }

    /// All spanned elements, padding between rows included.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// The `w`x`h` sub-rectangle at `(x, y)`, without copying.
    pub fn sub_view(&self, x: usize, y: usize, w: usize, h: usize) -> Result<ImageView<'a, T>> {
        rect_inside((x, y, w, h), self.width, self.height)?;
        let start = y * self.stride + x;
        ImageView::new(&self.data[start..], w, h, self.stride)
    }

    /// Splits into rows `0..y` and `y..height`; `None` unless `0 < y < height`.
    pub fn split_at_row(&self, y: usize) -> Option<(ImageView<'a, T>, ImageView<'a, T>)> {
        if y == 0 || y >= self.height {
            return None;
        }
        let (top, bottom) = self.data.split_at(y * self.stride);
        let mk = |data, height| ImageView {
            data,
            width: self.width,
            height,
            stride: self.stride,
        };
        Some((mk(top, y), mk(bottom, self.height - y)))
    }

    /// Copies into a new owned image with aligned rows.
    pub fn to_image(&self) -> Image<T> {
        let mut out = Image::new(self.width, self.height).expect("a valid view has a valid size");
        for (dst, src) in out.as_view_mut().rows_mut().zip(self.rows()) {
            dst.copy_from_slice(src);
        }
        out
    }
}

impl<'a, T: Pixel> ImageViewMut<'a, T> {
    /// A mutable view over `data` with an explicit stride; same checks as [`ImageView::new`].
    pub fn new(data: &'a mut [T], width: usize, height: usize, stride: usize) -> Result<Self> {
        let needed = check_layout(width, height, stride, data.len())?;
        Ok(ImageViewMut {
            data: &mut data[..needed],
            width,
            height,
            stride,
        })
    }

    /// A mutable view over tightly packed rows.
    pub fn from_slice(data: &'a mut [T], width: usize, height: usize) -> Result<Self> {
        Self::new(data, width, height, width)
    }

    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn stride(&self) -> usize {
        self.stride
    }
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// An immutable view of the same pixels.
    pub fn as_view(&self) -> ImageView<'_, T> {
        ImageView {
            data: self.data,
            width: self.width,
            height: self.height,
            stride: self.stride,
        }
    }

    /// A shorter-lived mutable view of the same pixels (to pass on without giving up `self`).
    pub fn reborrow(&mut self) -> ImageViewMut<'_, T> {
        ImageViewMut {
            data: self.data,
            width: self.width,
            height: self.height,
            stride: self.stride,
        }
    }

    /// Row `y`, writable. Panics if `y >= height`.
    pub fn row_mut(&mut self, y: usize) -> &mut [T] {
        assert!(y < self.height, "row {y} out of {} rows", self.height);
        let start = y * self.stride;
        &mut self.data[start..start + self.width]
    }

    /// Rows `y` and `y + 1`, both writable. Panics if `y + 1 >= height`.
    pub fn two_rows_mut(&mut self, y: usize) -> (&mut [T], &mut [T]) {
        assert!(
            y + 1 < self.height,
            "rows {y}, {} out of {} rows",
            y + 1,
            self.height
        );
        let (upper, lower) = self.data[y * self.stride..].split_at_mut(self.stride);
        (&mut upper[..self.width], &mut lower[..self.width])
    }

    /// Rows `y .. y + N`, all writable. Panics if `y + N > height`.
    pub fn consecutive_rows_mut<const N: usize>(&mut self, y: usize) -> [&mut [T]; N] {
        assert!(
            N > 0 && y.checked_add(N).is_some_and(|end| end <= self.height),
            "rows {y}..{y}+{N} out of {} rows",
            self.height
        );
        let (stride, width) = (self.stride, self.width);
        // The last row may be shorter than the stride but is always at least `width` long.
        let mut rest = &mut self.data[y * stride..];
        std::array::from_fn(|_| {
            let at = stride.min(rest.len());
            let (row, tail) = std::mem::take(&mut rest).split_at_mut(at);
            rest = tail;
            &mut row[..width]
        })
    }

    /// The rows, writable, top to bottom.
    pub fn rows_mut(&mut self) -> impl ExactSizeIterator<Item = &mut [T]> + DoubleEndedIterator {
        let width = self.width;
        // The last row may be shorter than the stride but is always at least `width` long.
        self.data
            .chunks_mut(self.stride)
            .map(move |row| &mut row[..width])
    }

    /// All spanned elements, writable, padding included.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data
    }

    /// Sets every pixel to `value` (padding untouched).
    pub fn fill(&mut self, value: T) {
        for row in self.rows_mut() {
            row.fill(value);
        }
    }

    /// Copies `src` (same size) into this view.
    pub fn copy_from(&mut self, src: &ImageView<'_, T>) -> Result<()> {
        super::check_same_size("source", self.size(), src.size())?;
        for (dst, src) in self.rows_mut().zip(src.rows()) {
            dst.copy_from_slice(src);
        }
        Ok(())
    }

    /// The `w`x`h` sub-rectangle at `(x, y)`, writable, without copying.
    pub fn sub_view_mut(
        &mut self,
        x: usize,
        y: usize,
        w: usize,
        h: usize,
    ) -> Result<ImageViewMut<'_, T>> {
        rect_inside((x, y, w, h), self.width, self.height)?;
        let start = y * self.stride + x;
        ImageViewMut::new(&mut self.data[start..], w, h, self.stride)
    }

    /// Splits into rows `0..y` and `y..height`; `None` unless `0 < y < height`.
    pub fn split_at_row_mut(self, y: usize) -> Option<(ImageViewMut<'a, T>, ImageViewMut<'a, T>)> {
        if y == 0 || y >= self.height {
            return None;
        }
        let (width, height, stride) = (self.width, self.height, self.stride);
        let (top, bottom) = self.data.split_at_mut(y * stride);
        Some((
            ImageViewMut {
                data: top,
                width,
                height: y,
                stride,
            },
            ImageViewMut {
                data: bottom,
                width,
                height: height - y,
                stride,
            },
        ))
    }
}

// Zero-copy borrowing of the `image` crate's single-channel buffers.
macro_rules! from_image_buffer {
    ($($t:ty),*) => {$(
        impl<'a> TryFrom<&'a image::ImageBuffer<image::Luma<$t>, Vec<$t>>> for ImageView<'a, $t> {
            type Error = Error;
            fn try_from(buf: &'a image::ImageBuffer<image::Luma<$t>, Vec<$t>>) -> Result<Self> {
                let (w, h) = buf.dimensions();
                ImageView::from_slice(buf.as_raw(), w as usize, h as usize)
            }
        }
        impl<'a> TryFrom<&'a mut image::ImageBuffer<image::Luma<$t>, Vec<$t>>> for ImageViewMut<'a, $t> {
            type Error = Error;
            fn try_from(buf: &'a mut image::ImageBuffer<image::Luma<$t>, Vec<$t>>) -> Result<Self> {
                let (w, h) = buf.dimensions();
                ImageViewMut::from_slice(&mut **buf, w as usize, h as usize)
            }
        }
    )*};
}
from_image_buffer!(u8, u16, f32);
