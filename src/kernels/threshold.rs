//! Fixed thresholds (binary, binary-inverted, truncate, to-zero and its inverse, with
//! OpenCV's semantics: a pixel is "above" when `v > threshold`), and the automatic levels
//! of Otsu (1979) and Zack's triangle method (1977), computed from a histogram exactly
//! as OpenCV's `THRESH_OTSU` / `THRESH_TRIANGLE` do, so both pick the same level.
//!
//! The fixed thresholds are plain loops compiled per SIMD level (`autovectorized!`),
//! bit-identical across levels. The histogram counts pairs of neighbouring pixels, one
//! counter update per two pixels ([`HistogramCounter`]).

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

/// Entries of a pair table: one counter per (first, second) value of two neighbours.
const PAIR_BINS: usize = 1 << 16;

/// Pairs counted into a table between two read-outs: an entry (with its 8-bit counter)
/// holds at most this many, below 2^32 (one row would need 2^33 pixels to pass it).
const READ_OUT_PAIRS: usize = 1 << 31;

/// Bands smaller than this count pixel by pixel: reading out a pair table (256 KiB)
/// would cost more than the pairs save.
const PAIR_MIN_PIXELS: usize = 1 << 18;

/// Counts histograms, reusing its pair tables from call to call.
///
/// A histogram is bound by its counter updates (a load, an add and a store each, about
/// one per cycle per core), not by reading the image. So it counts *pairs* of
/// neighbouring pixels: one update of a 65536-entry table per two pixels, and the two
/// marginals of that table are the histogram, exactly. On camera frames neighbours are
/// alike and the table's busy part stays in L1, so counting takes about half the time.
/// Where neighbours differ widely (noise) the updates spread over the whole table and
/// miss L1; those bands count into 8-bit counters (a 64 KiB table, a quarter of the
/// cache lines), each wrap adding 256 to the 32-bit table. Bands of rows are counted in
/// parallel (a table each) and summed, which is exact.
pub struct HistogramCounter {
    tables: Vec<PairTable>,
    /// False for the one-off counts: a table allocated, zeroed and read out for a
    /// single image costs more than the pairs save.
    pairs: bool,
}

/// One band's pair tables: 32-bit counters, and the 8-bit ones of bands whose
/// neighbours differ widely (their wraps carried into the 32-bit ones).
struct PairTable {
    wide: Box<[u32]>,
    narrow: Box<[u8]>,
}

impl PairTable {
    fn new() -> Self {
        PairTable {
            wide: vec![0; PAIR_BINS].into_boxed_slice(),
            narrow: vec![0; PAIR_BINS].into_boxed_slice(),
        }
    }
}

impl Default for HistogramCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl HistogramCounter {
    /// A counter; its tables are allocated by the first large enough image.
    pub fn new() -> Self {
        HistogramCounter {
            tables: Vec::new(),
            pairs: true,
        }
    }

    /// A counter that counts pixel by pixel and never allocates (one-off counts).
    fn without_tables() -> Self {
        HistogramCounter {
            tables: Vec::new(),
            pairs: false,
        }
    }

    /// The histogram of `src`; bands of rows are counted on the current rayon pool.
    pub fn count(&mut self, src: &ImageView<'_, u8>) -> Histogram {
        use rayon::prelude::*;
        let (w, h) = src.size();
        let threads = rayon::current_num_threads();
        let band = if threads <= 1 || w * h < PAR_MIN_PIXELS {
            h.max(1)
        } else {
            h.div_ceil(threads * 2).max(16)
        };
        let bands = h.div_ceil(band);
        let rows = |b: usize| b * band..((b + 1) * band).min(h);
        let sum = |mut a: Histogram, b: Histogram| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            a
        };
        let pairs = self.pairs && w * band >= PAIR_MIN_PIXELS;
        if pairs && self.tables.len() < bands {
            self.tables.resize_with(bands, PairTable::new);
        }
        if bands <= 1 {
            return match self.tables.first_mut() {
                Some(table) if pairs => count_pairs(src, 0..h, table),
                _ => count_pixels(src, 0..h),
            };
        }
        if !pairs {
            return (0..bands)
                .into_par_iter()
                .map(|b| count_pixels(src, rows(b)))
                .reduce(|| [0; 256], sum);
        }
        self.tables[..bands]
            .par_iter_mut()
            .enumerate()
            .map(|(b, table)| match rows(b) {
                r if w * r.len() >= PAIR_MIN_PIXELS => count_pairs(src, r, table),
                r => count_pixels(src, r),
            })
            .reduce(|| [0; 256], sum)
    }
}

/// The histogram of `src`, pixel by pixel (no allocation); a [`HistogramCounter`] kept
/// from call to call counts pairs, about twice as fast on camera frames.
pub fn histogram(src: &ImageView<'_, u8>) -> Histogram {
    HistogramCounter::without_tables().count(src)
}

/// Counts `rows` pixel by pixel into interleaved sub-histograms.
fn count_pixels(src: &ImageView<'_, u8>, rows: std::ops::Range<usize>) -> Histogram {
    // u32 sub-counters are flushed before they could overflow.
    const FLUSH_PIXELS: usize = 1 << 31;
    let mut total = [0u64; 256];
    let mut sub = [[0u32; 256]; SUBS];
    let mut pending = 0;
    for y in rows {
        let row = src.row(y);
        if pending + row.len() > FLUSH_PIXELS {
            flush(&mut sub, &mut total);
            pending = 0;
        }
        pending += row.len();
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
    flush(&mut sub, &mut total);
    total
}

fn flush(sub: &mut [[u32; 256]; SUBS], total: &mut Histogram) {
    for s in sub.iter_mut() {
        for (t, c) in total.iter_mut().zip(s.iter_mut()) {
            *t += u64::from(*c);
            *c = 0;
        }
    }
}

/// Counts `rows` as pairs of neighbours into `table` (all zero on entry and on return),
/// in 8-bit counters where sampled neighbours mostly differ widely.
fn count_pairs(
    src: &ImageView<'_, u8>,
    rows: std::ops::Range<usize>,
    table: &mut PairTable,
) -> Histogram {
    debug_assert!(!rows.is_empty(), "a band has rows");
    let sample = [rows.start, (rows.start + rows.end) / 2, rows.end - 1];
    if neighbours_differ(sample.map(|y| src.row(y))) {
        count_pairs_into::<true>(src, rows, table)
    } else {
        count_pairs_into::<false>(src, rows, table)
    }
}

/// Whether at least three in four of the sampled pairs of neighbours (up to 256 from
/// each row) differ by more than 16: 87% on uniform noise, few on camera frames.
fn neighbours_differ(rows: [&[u8]; 3]) -> bool {
    let (mut sampled, mut differ) = (0, 0);
    for row in rows {
        for p in row.chunks_exact(2).take(256) {
            sampled += 1;
            differ += usize::from(p[0].abs_diff(p[1]) > 16);
        }
    }
    sampled > 0 && 4 * differ >= 3 * sampled
}

/// Adds both marginals of the band's pair tables (an entry counts its 32-bit and 8-bit
/// counters; the 8-bit ones are zero unless the band used them) to `total` and zeroes
/// both tables.
fn read_out_pairs(table: &mut PairTable, total: &mut Histogram) {
    // Row `second` of a table holds the pairs ending in that value; its entries are
    // indexed by the first value.
    let mut firsts = [0u64; 256];
    let rows = table
        .wide
        .chunks_exact_mut(256)
        .zip(table.narrow.chunks_exact_mut(256));
    for (second, (wide, narrow)) in rows.enumerate() {
        let mut seconds = 0u64;
        for ((f, w), n) in firsts.iter_mut().zip(wide).zip(narrow) {
            let count = u64::from(*w) + u64::from(*n);
            *f += count;
            seconds += count;
            (*w, *n) = (0, 0);
        }
        total[second] += seconds;
    }
    for (t, f) in total.iter_mut().zip(firsts) {
        *t += f;
    }
}

/// [`count_pairs`] into the 8-bit counters (`NARROW`), a wrap adding 256 to the 32-bit
/// one, or straight into the 32-bit ones.
fn count_pairs_into<const NARROW: bool>(
    src: &ImageView<'_, u8>,
    rows: std::ops::Range<usize>,
    table: &mut PairTable,
) -> Histogram {
    let mut total = [0u64; 256];
    let mut pending = 0;
    for y in rows {
        let row = src.row(y);
        if pending + row.len() / 2 > READ_OUT_PAIRS {
            read_out_pairs(table, &mut total);
            pending = 0;
        }
        pending += row.len() / 2;
        let wide: &mut [u32; PAIR_BINS] = (&mut *table.wide).try_into().expect("pair table size");
        let narrow: &mut [u8; PAIR_BINS] =
            (&mut *table.narrow).try_into().expect("pair table size");
        let mut count_one = |pair: usize| {
            if NARROW {
                let n = narrow[pair].wrapping_add(1);
                narrow[pair] = n;
                if n == 0 {
                    wide[pair] += 256;
                }
            } else {
                wide[pair] += 1;
            }
        };
        // Eight pixels per load; a pair's index is its first value plus 256 times the
        // second (the u64's bytes in memory order).
        let mut chunks = row.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            count_one((v & 0xffff) as usize);
            count_one(((v >> 16) & 0xffff) as usize);
            count_one(((v >> 32) & 0xffff) as usize);
            count_one((v >> 48) as usize);
        }
        let mut pairs = chunks.remainder().chunks_exact(2);
        for p in &mut pairs {
            count_one(usize::from(p[0]) | usize::from(p[1]) << 8);
        }
        for &v in pairs.remainder() {
            total[usize::from(v)] += 1;
        }
    }
    read_out_pairs(table, &mut total);
    total
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

/// Otsu's level of `src`, then `dst = kind(src, level, max)`; returns the level. Counts
/// pixel by pixel (no allocation); repeated calls should keep a [`HistogramCounter`]
/// and call [`HistogramCounter::otsu_threshold`].
pub fn otsu_threshold(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    max: u8,
    kind: ThresholdKind,
) -> Result<u8> {
    HistogramCounter::without_tables().otsu_threshold(src, dst, max, kind)
}

impl HistogramCounter {
    /// Otsu's level of `src`, then `dst = kind(src, level, max)`; returns the level.
    pub fn otsu_threshold(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
        max: u8,
        kind: ThresholdKind,
    ) -> Result<u8> {
        check_same_size("output", src.size(), dst.size())?;
        let level = otsu_level(&self.count(src));
        threshold_u8(src, dst, level, max, kind)?;
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample picks 8-bit counters for noise-like rows and 32-bit ones for alike
    /// neighbours, short rows and rows of one pixel (the tests in tests/threshold.rs
    /// check that both count exactly).
    #[test]
    fn narrow_counters_for_rows_whose_neighbours_differ() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..600)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 40) as u8
            })
            .collect();
        let ramp: Vec<u8> = (0..600).map(|i| (i / 7) as u8).collect();
        let stripes: Vec<u8> = (0..600).map(|i| if i % 2 == 0 { 0 } else { 255 }).collect();
        assert!(neighbours_differ([&noise, &noise, &noise]));
        assert!(neighbours_differ([&stripes, &stripes, &stripes]));
        assert!(!neighbours_differ([&ramp, &ramp, &ramp]));
        assert!(!neighbours_differ([&ramp, &noise, &ramp]));
        assert!(!neighbours_differ([&[7], &[7], &[7]]));
    }
}
