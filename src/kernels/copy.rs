//! A plain copy of the same bytes: the memory-bandwidth ceiling every other kernel's
//! GB/s is compared with. Rows are copied with `copy_from_slice` (the platform memcpy),
//! bands in parallel like every other kernel.

use crate::Result;
use crate::image::{ImageView, ImageViewMut, Pixel, check_same_size};

use crate::kernels::parallel::POINT_OP_PAR_MIN_PIXELS as PAR_MIN_PIXELS;

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
