//! Row-band parallelism on the current rayon pool, without allocating: the image is
//! halved recursively with `rayon::join` until bands are small enough. Each band is
//! processed by the same function a single thread would run, so output is identical
//! whatever the thread count.

use crate::image::{ImageView, ImageViewMut, Pixel};

/// Bands never get thinner than this many rows (per-task overhead is microseconds).
const MIN_BAND_ROWS: usize = 16;

/// Calls `f` on horizontal bands of `src` and `dst` (same size), in parallel when the
/// current rayon pool has more than one thread and the image has at least
/// `min_parallel_pixels` pixels; otherwise once, on the whole image, on this thread.
pub(crate) fn for_each_band<S: Pixel, D: Pixel, F>(
    src: ImageView<'_, S>,
    dst: ImageViewMut<'_, D>,
    min_parallel_pixels: usize,
    f: &F,
) where
    F: Fn(ImageView<'_, S>, ImageViewMut<'_, D>) + Sync,
{
    debug_assert_eq!(src.size(), dst.size());
    let threads = rayon::current_num_threads();
    let pixels = src.width() * src.height();
    if threads <= 1 || pixels < min_parallel_pixels {
        return f(src, dst);
    }
    // About four bands per thread balances load without tiny tasks.
    let band_rows = src.height().div_ceil(threads * 4).max(MIN_BAND_ROWS);
    split(src, dst, band_rows, f);
}

fn split<S: Pixel, D: Pixel, F>(
    src: ImageView<'_, S>,
    dst: ImageViewMut<'_, D>,
    band_rows: usize,
    f: &F,
) where
    F: Fn(ImageView<'_, S>, ImageViewMut<'_, D>) + Sync,
{
    let h = src.height();
    if h < 2 * band_rows {
        return f(src, dst);
    }
    let mid = h / 2;
    let (s0, s1) = src.split_at_row(mid).expect("0 < mid < h");
    let (d0, d1) = dst.split_at_row_mut(mid).expect("0 < mid < h");
    rayon::join(
        || split(s0, d0, band_rows, f),
        || split(s1, d1, band_rows, f),
    );
}
