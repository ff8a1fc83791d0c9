//! A plain copy of the same bytes: the memory-bandwidth ceiling every other kernel's
//! GB/s is compared with. Rows are copied with `copy_from_slice` (the platform memcpy),
//! bands in parallel like every other kernel.

use crate::Result;
use crate::image::{ImageView, ImageViewMut, Pixel, check_same_size};

/// Below this many pixels a copy stays on one thread.
const PAR_MIN_PIXELS: usize = 1 << 18;

/// Copies `src` into `dst` (same size, any strides).
pub fn copy_image<T: Pixel>(src: &ImageView<'_, T>, dst: &mut ImageViewMut<'_, T>) -> Result<()> {
    check_same_size("output", src.size(), dst.size())?;
    super::parallel::for_each_band(*src, dst.reborrow(), PAR_MIN_PIXELS, &|s, mut d| {
        for (d, s) in d.rows_mut().zip(s.rows()) {
            d.copy_from_slice(s);
        }
    });
    Ok(())
}
