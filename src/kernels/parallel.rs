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
