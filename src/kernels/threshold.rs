//! Fixed thresholds (binary, binary-inverted, truncate, to-zero and its inverse, with
//! OpenCV's semantics: a pixel is "above" when `v > threshold`), and the automatic levels
//! of Otsu (1979) and Zack's triangle method (1977), computed from a histogram exactly
//! as OpenCV's `THRESH_OTSU` / `THRESH_TRIANGLE` do, so both pick the same level.
//!
//! The fixed thresholds are plain loops compiled per SIMD level (`autovectorized!`),
//! bit-identical across levels. The histogram spreads consecutive pixels over eight
//! sub-histograms, so repeated values do not serialize on one counter (store-to-load
//! forwarding); bands of rows are counted in parallel and summed, which is exact.

use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// What a threshold writes (OpenCV's `THRESH_*` types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    /// `max` above, `0` else.
    Binary,
    /// `0` above, `max` else.
    BinaryInv,
    /// `threshold` above, `v` else.
    Trunc,
    /// `v` above, `0` else.
    ToZero,
    /// `0` above, `v` else.
    ToZeroInv,
}

impl ThresholdKind {
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "binary" => ThresholdKind::Binary,
            "binary_inv" => ThresholdKind::BinaryInv,
            "trunc" => ThresholdKind::Trunc,
            "tozero" => ThresholdKind::ToZero,
            "tozero_inv" => ThresholdKind::ToZeroInv,
            other => {
                return Err(Error::bad_param(
                    "type",
                    format!(
                        "'{other}' is not one of binary, binary_inv, trunc, tozero, tozero_inv"
                    ),
                ));
            }
        })
    }
}

macro_rules! threshold_rows {
    ($name:ident, $t:ty) => {
        autovectorized! {
            fn $name(src: &[$t], t: $t, max: $t, kind: ThresholdKind, out: &mut [$t]) {
                let n = out.len();
                let src = &src[..n];
                let zero: $t = Default::default();
                // One loop per kind: a select per pixel, which vectorizes.
                match kind {
                    ThresholdKind::Binary => for i in 0..n { out[i] = if src[i] > t { max } else { zero } },
                    ThresholdKind::BinaryInv => for i in 0..n { out[i] = if src[i] > t { zero } else { max } },
                    ThresholdKind::Trunc => for i in 0..n { out[i] = if src[i] > t { t } else { src[i] } },
                    ThresholdKind::ToZero => for i in 0..n { out[i] = if src[i] > t { src[i] } else { zero } },
                    ThresholdKind::ToZeroInv => for i in 0..n { out[i] = if src[i] > t { zero } else { src[i] } },
                }
            }
        }
    };
}
threshold_rows!(threshold_row_u8, u8);
threshold_rows!(threshold_row_f32, f32);

/// Below this many pixels a threshold stays on one thread.
use crate::kernels::parallel::POINT_OP_PAR_MIN_PIXELS as PAR_MIN_PIXELS;

/// `dst = kind(src, threshold, max)` for u8 images.
pub fn threshold_u8(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    threshold: u8,
    max: u8,
    kind: ThresholdKind,
) -> Result<()> {
    threshold_u8_at(simd::level()?, src, dst, threshold, max, kind)
}

/// [`threshold_u8`] at an explicit SIMD level.
pub fn threshold_u8_at(
    level: SimdLevel,
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    threshold: u8,
    max: u8,
    kind: ThresholdKind,
) -> Result<()> {
    rows(level, src, dst, &|s, d| {
        threshold_row_u8(level, s, threshold, max, kind, d)
    })
}

/// Checks the level and sizes, then runs `row` over all rows, bands in parallel.
fn rows<T: crate::Pixel>(
    level: SimdLevel,
    src: &ImageView<'_, T>,
    dst: &mut ImageViewMut<'_, T>,
    row: &(dyn Fn(&[T], &mut [T]) + Sync),
) -> Result<()> {
    level.check()?;
    check_same_size("output", src.size(), dst.size())?;
    crate::kernels::parallel::for_each_band(*src, dst.reborrow(), PAR_MIN_PIXELS, &|s, mut d| {
        for (s, d) in s.rows().zip(d.rows_mut()) {
            row(s, d);
        }
    });
    Ok(())
}

/// `dst = kind(src, threshold, max)` for f32 images (NaN is never above).
pub fn threshold_f32(
    src: &ImageView<'_, f32>,
    dst: &mut ImageViewMut<'_, f32>,
    threshold: f32,
    max: f32,
    kind: ThresholdKind,
) -> Result<()> {
    threshold_f32_at(simd::level()?, src, dst, threshold, max, kind)
}

/// [`threshold_f32`] at an explicit SIMD level.
pub fn threshold_f32_at(
    level: SimdLevel,
    src: &ImageView<'_, f32>,
    dst: &mut ImageViewMut<'_, f32>,
    threshold: f32,
    max: f32,
    kind: ThresholdKind,
) -> Result<()> {
    for (name, v) in [("threshold", threshold), ("max", max)] {
        if !v.is_finite() {
            return Err(Error::bad_param(name, format!("must be finite, got {v}")));
        }
    }
    rows(level, src, dst, &|s, d| {
        threshold_row_f32(level, s, threshold, max, kind, d)
    })
}

/// A 256-bin histogram of a u8 image.
pub type Histogram = [u64; 256];

/// Sub-histograms: consecutive pixels go to different counters, so runs of equal values
/// do not wait on one another's store.
const SUBS: usize = 4;

/// Counts one row into the interleaved sub-histograms.
fn count_row(row: &[u8], sub: &mut [[u32; 256]; SUBS]) {
    let mut chunks = row.chunks_exact(SUBS);
    for c in &mut chunks {
        for (s, &v) in sub.iter_mut().zip(c) {
            s[usize::from(v)] += 1;
        }
    }
    for &v in chunks.remainder() {
        sub[0][usize::from(v)] += 1;
    }
}

/// The histogram of `src`; bands of rows are counted on the current rayon pool.
pub fn histogram(src: &ImageView<'_, u8>) -> Histogram {
    use rayon::prelude::*;
    // u32 sub-counters are flushed every FLUSH_ROWS rows, so they cannot overflow.
    const FLUSH_ROWS: usize = 1 << 10;
    let count = |rows: std::ops::Range<usize>| -> Histogram {
        let mut total = [0u64; 256];
        let mut sub = [[0u32; 256]; SUBS];
        for (k, y) in rows.enumerate() {
            count_row(src.row(y), &mut sub);
            if (k + 1) % FLUSH_ROWS == 0 || src.width() >= 1 << 20 {
                flush(&mut sub, &mut total);
            }
        }
        flush(&mut sub, &mut total);
        total
    };
    let h = src.height();
    let threads = rayon::current_num_threads();
    if threads <= 1 || src.width() * h < PAR_MIN_PIXELS {
        return count(0..h);
    }
    let band = h.div_ceil(threads * 2).max(16);
    (0..h.div_ceil(band))
        .into_par_iter()
        .map(|b| count(b * band..((b + 1) * band).min(h)))
        .reduce(
            || [0u64; 256],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

fn flush(sub: &mut [[u32; 256]; SUBS], total: &mut Histogram) {
    for s in sub.iter_mut() {
        for (t, c) in total.iter_mut().zip(s.iter_mut()) {
            *t += u64::from(*c);
            *c = 0;
        }
    }
}

/// Otsu's level: the one maximizing the between-class variance, evaluated in the same
/// order and precision as OpenCV (first maximum wins). Pixels `> level` are foreground.
pub fn otsu_level(hist: &Histogram) -> u8 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0;
    }
    let scale = 1.0 / total as f64;
    let mu = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum::<f64>()
        * scale;
    let (mut mu1, mut q1) = (0.0f64, 0.0f64);
    let (mut max_sigma, mut max_val) = (0.0f64, 0u8);
    for (i, &c) in hist.iter().enumerate() {
        let p_i = c as f64 * scale;
        mu1 *= q1;
        q1 += p_i;
        let q2 = 1.0 - q1;
        let eps = f64::from(f32::EPSILON);
        if q1.min(q2) < eps || q1.max(q2) > 1.0 - eps {
            continue;
        }
        mu1 = (mu1 + i as f64 * p_i) / q1;
        let mu2 = (mu - q1 * mu1) / q2;
        let sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
        if sigma > max_sigma {
            max_sigma = sigma;
            max_val = i as u8;
        }
    }
    max_val
}

/// The triangle level (Zack et al.), as OpenCV's `THRESH_TRIANGLE` computes it: the bin
/// farthest from the line joining the histogram's peak to its far end. Like OpenCV's,
/// it can be −1 (every pixel above it); [`threshold_u8_level`] takes such levels.
pub fn triangle_level(hist: &Histogram) -> i32 {
    const N: usize = 256;
    let mut h = *hist;
    let Some(mut left) = h.iter().position(|&c| c > 0) else {
        return 0;
    };
    left = left.saturating_sub(1);
    let mut right = (1..N).rev().find(|&i| h[i] > 0).unwrap_or(0);
    if right < N - 1 {
        right += 1;
    }
    let (mut max_ind, mut max) = (0usize, 0u64);
    for (i, &c) in h.iter().enumerate() {
        if c > max {
            max = c;
            max_ind = i;
        }
    }
    let flipped = (max_ind as isize - left as isize) < (right as isize - max_ind as isize);
    if flipped {
        h.reverse();
        left = N - 1 - right;
        max_ind = N - 1 - max_ind;
    }
    let mut thresh = left;
    let (a, b) = (max as f64, left as f64 - max_ind as f64);
    let mut dist = 0.0;
    for i in left + 1..=max_ind {
        let d = a * i as f64 + b * h[i] as f64;
        if d > dist {
            dist = d;
            thresh = i;
        }
    }
    let thresh = thresh as i32 - 1;
    if flipped {
        (N - 1) as i32 - thresh
    } else {
        thresh
    }
}

/// [`threshold_u8`] at a level in −1..=255 (as automatic methods may return): −1 puts
/// every pixel above (`trunc` then writes 0, the level saturated to u8, as OpenCV does).
pub fn threshold_u8_level(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    level: i32,
    max: u8,
    kind: ThresholdKind,
) -> Result<()> {
    if level >= 0 {
        return threshold_u8(src, dst, level.min(255) as u8, max, kind);
    }
    check_same_size("output", src.size(), dst.size())?;
    match kind {
        ThresholdKind::Binary => dst.fill(max),
        ThresholdKind::ToZero => dst.copy_from(src)?,
        ThresholdKind::BinaryInv | ThresholdKind::Trunc | ThresholdKind::ToZeroInv => dst.fill(0),
    }
    Ok(())
}

/// Otsu's level of `src`, then `dst = kind(src, level, max)`; returns the level.
pub fn otsu_threshold(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    max: u8,
    kind: ThresholdKind,
) -> Result<u8> {
    check_same_size("output", src.size(), dst.size())?;
    let level = otsu_level(&histogram(src));
    threshold_u8(src, dst, level, max, kind)?;
    Ok(level)
}
