//! Row-band parallelism on the current rayon pool, without allocating: the image is
//! halved recursively with `rayon::join` until bands are small enough. Each band is
//! processed by the same function a single thread would run, so output is identical
//! whatever the thread count.

use crate::image::{ImageView, ImageViewMut, Pixel};

/// Below this many pixels, cheap per-pixel kernels (copy, LUT) stay on one thread.
pub(crate) const POINT_OP_PAR_MIN_PIXELS: usize = 1 << 18;

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
    for_each_band_at(src, dst, min_parallel_pixels, &|_, s, d| f(s, d));
}

/// [`for_each_band`], also passing each band's first row (for kernels that read
/// per-pixel maps alongside the image).
pub(crate) fn for_each_band_at<S: Pixel, D: Pixel, F>(
    src: ImageView<'_, S>,
    dst: ImageViewMut<'_, D>,
    min_parallel_pixels: usize,
    f: &F,
) where
    F: Fn(usize, ImageView<'_, S>, ImageViewMut<'_, D>) + Sync,
{
    let threads = rayon::current_num_threads();
    if threads <= 1 || src.width() * src.height() < min_parallel_pixels {
        return f(0, src, dst);
    }
    let band_rows = src.height().div_ceil(threads * 4).max(MIN_BAND_ROWS);
    split_at(0, src, dst, band_rows, f);
}

fn split_at<S: Pixel, D: Pixel, F>(
    y0: usize,
    src: ImageView<'_, S>,
    dst: ImageViewMut<'_, D>,
    band_rows: usize,
    f: &F,
) where
    F: Fn(usize, ImageView<'_, S>, ImageViewMut<'_, D>) + Sync,
{
    let h = src.height();
    if h < 2 * band_rows {
        return f(y0, src, dst);
    }
    let mid = h / 2;
    let (s0, s1) = src.split_at_row(mid).expect("0 < mid < h");
    let (d0, d1) = dst.split_at_row_mut(mid).expect("0 < mid < h");
    rayon::join(
        || split_at(y0, s0, d0, band_rows, f),
        || split_at(y0 + mid, s1, d1, band_rows, f),
    );
}

/// Calls `f(first_row, band, scratch)` on bands of `band_rows` rows of `dst` (the last
/// may be shorter), each band with its own element of `scratch` (at least one per
/// band), in parallel on the current rayon pool. Like [`for_each_band`], the output
/// does not depend on the thread count when `f` only depends on its band.
pub(crate) fn for_each_band_with_scratch<D: Pixel, X: Send, F>(
    dst: ImageViewMut<'_, D>,
    band_rows: usize,
    scratch: &mut [X],
    f: &F,
) where
    F: Fn(usize, ImageViewMut<'_, D>, &mut X) + Sync,
{
    let band_rows = band_rows.max(1);
    debug_assert!(scratch.len() >= dst.height().div_ceil(band_rows));
    split_scratch(0, dst, band_rows, scratch, f);
}

fn split_scratch<D: Pixel, X: Send, F>(
    first_row: usize,
    dst: ImageViewMut<'_, D>,
    band_rows: usize,
    scratch: &mut [X],
    f: &F,
) where
    F: Fn(usize, ImageViewMut<'_, D>, &mut X) + Sync,
{
    let bands = dst.height().div_ceil(band_rows);
    if bands <= 1 || rayon::current_num_threads() <= 1 {
        // One thread: process the bands in order with the first scratch.
        let mut rest = Some(dst);
        let mut y = first_row;
        while let Some(band) = rest.take() {
            let (now, later) = match band.height() > band_rows {
                true => {
                    let (a, b) = band.split_at_row_mut(band_rows).expect("0 < band_rows < h");
                    (a, Some(b))
                }
                false => (band, None),
            };
            let h = now.height();
            f(y, now, &mut scratch[0]);
            y += h;
            rest = later;
        }
        return;
    }
    let half = bands / 2;
    let (top, bottom) = dst.split_at_row_mut(half * band_rows).expect("inside");
    let (s0, s1) = scratch.split_at_mut(half);
    rayon::join(
        || split_scratch(first_row, top, band_rows, s0, f),
        || split_scratch(first_row + half * band_rows, bottom, band_rows, s1, f),
    );
}

/// Rows per band for a kernel that streams a `width`×`height` image row by row (the whole
/// image below the parallel threshold), with `scratch` grown to one element per band.
pub(crate) fn bands_with_scratch<X: Default>(
    width: usize,
    height: usize,
    scratch: &mut Vec<X>,
) -> usize {
    let band_rows = if width * height < POINT_OP_PAR_MIN_PIXELS {
        height
    } else {
        band_rows_for(height, MIN_BAND_ROWS)
    };
    let bands = height.div_ceil(band_rows.max(1));
    if scratch.len() < bands {
        scratch.resize_with(bands, X::default);
    }
    band_rows
}

/// Rows per band for an image of `height` rows on the current pool: about four bands
/// per thread, never fewer than `min_rows` rows.
pub(crate) fn band_rows_for(height: usize, min_rows: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads <= 1 {
        return height.max(1);
    }
    height
        .div_ceil(threads * 4)
        .max(min_rows)
        .max(MIN_BAND_ROWS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Image;
    use std::collections::HashSet;
    use std::sync::Mutex;

    fn bands_seen(
        threads: usize,
        w: usize,
        h: usize,
    ) -> (usize, HashSet<std::thread::ThreadId>, usize) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let src = Image::<u8>::new(w, h).unwrap();
        let mut dst = Image::<u8>::new(w, h).unwrap();
        let seen = Mutex::new((0, HashSet::new(), 0));
        pool.install(|| {
            for_each_band(src.as_view(), dst.as_view_mut(), 1 << 10, &|s, mut d| {
                d.fill(1);
                let mut g = seen.lock().unwrap();
                g.0 += 1;
                g.1.insert(std::thread::current().id());
                g.2 += s.height();
            })
        });
        assert!(
            dst.as_view().rows().flatten().all(|&v| v == 1),
            "every row visited"
        );
        seen.into_inner().unwrap()
    }

    #[test]
    fn one_thread_means_one_band_on_one_thread() {
        let (bands, threads, rows) = bands_seen(1, 640, 480);
        assert_eq!((bands, threads.len(), rows), (1, 1, 480));
    }

    #[test]
    fn several_threads_split_into_bands_covering_every_row() {
        let (bands, _, rows) = bands_seen(4, 640, 481);
        assert!(bands > 1);
        assert_eq!(rows, 481);
        // Small images stay whole.
        let (bands, _, _) = bands_seen(4, 8, 8);
        assert_eq!(bands, 1);
    }
}
