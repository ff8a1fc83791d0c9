//! Local statistics over a k×k window, fused into one streaming pass (the chapter's
//! Code 8.2.2b without its three full-image passes): mean, standard deviation through
//! Var = E[x²] − E[x]² (negatives from round-off clamped to 0), Niblack and Sauvola
//! threshold maps, and an adaptive threshold that writes the binary image directly.
//!
//! Sums are exact for u8 (u32) and f64 for f32; the variance E[x²] − E[x]² is taken in
//! f64, so its cancellation costs nothing visible in the f32 result, and its root in f32
//! (f64 beyond f32's range).

use crate::image::{ImageView, ImageViewMut, Pixel, check_same_size};
use crate::kernels::border::Border;
use crate::kernels::boxfilter::{MAX_KSIZE, MAX_KSIZE_U8, check_ksize};
use crate::kernels::window::{Emit, Scratches, Window, WindowPixel, sums_of_columns, window_sums};
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{DType, Error, Result};

#[cfg(target_arch = "x86_64")]
mod avx512;

/// How a local threshold is computed from the window mean `m` and deviation `s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LocalThreshold {
    /// `m − c` (OpenCV's `ADAPTIVE_THRESH_MEAN_C`).
    Mean { c: f64 },
    /// Niblack (1986): `m + k·s`, typically k = −0.2 for dark text on light paper.
    Niblack { k: f64 },
    /// Sauvola & Pietikäinen (2000): `m·(1 + k·(s/r − 1))`, typically k = 0.5 (0.2 to 0.5)
    /// and r = 128, the largest deviation of 8-bit data.
    Sauvola { k: f64, r: f64 },
}

impl LocalThreshold {
    /// Checks the parameters (finite numbers, r > 0).
    pub fn validate(self) -> Result<Self> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(Error::bad_param(name, format!("must be finite, got {v}")))
            }
        };
        match self {
            LocalThreshold::Mean { c } => finite("c", c)?,
            LocalThreshold::Niblack { k } => finite("k", k)?,
            LocalThreshold::Sauvola { k, r } => {
                finite("k", k)?;
                if !(r.is_finite() && r > 0.0) {
                    return Err(Error::bad_param("r", format!("must be > 0, got {r}")));
                }
            }
        }
        Ok(self)
    }
}

/// What a local-statistics map holds per pixel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LocalStat {
    /// The window mean.
    Mean,
    /// The window standard deviation.
    Std,
    /// A threshold map.
    Threshold(LocalThreshold),
}

// Plain index loops on purpose: iterator adaptors and closures may stay out of line,
// and then they are not compiled with the level's target features.
macro_rules! stats_rows {
    ($acc:ty, $px:ty, $map:ident, $binary:ident) => {
        autovectorized! {
            /// One row of mean, deviation or threshold map from window sums.
            fn $map(s1: &[$acc], s2: &[$acc], inv: f64, what: LocalStat, out: &mut [f32]) {
                let n = out.len();
                let s1 = &s1[..n];
                if let LocalStat::Mean = what {
                    for i in 0..n {
                        out[i] = (s1[i] as f64 * inv) as f32;
                    }
                    return;
                }
                let (a, b, c) = match what {
                    // out = a·m + b·s + c·m·s, which covers every map.
                    LocalStat::Std => (0.0, 1.0, 0.0),
                    LocalStat::Threshold(LocalThreshold::Mean { c }) => {
                        for i in 0..n {
                            out[i] = (s1[i] as f64 * inv - c) as f32;
                        }
                        return;
                    }
                    LocalStat::Threshold(LocalThreshold::Niblack { k }) => (1.0, k, 0.0),
                    LocalStat::Threshold(LocalThreshold::Sauvola { k, r }) => (1.0 - k, 0.0, k / r),
                    LocalStat::Mean => unreachable!("handled above"),
                };
                let s2 = &s2[..n];
                // The map is f32: an f32 root of the rounded variance is within an ulp
                // or so of it, at a fraction of an f64 root's cost. Variances beyond
                // f32 (inputs above ~1e19) take the f64 root instead, in a second loop
                // over the row only when one occurs: with both roots in one loop the
                // vectorizer computes the slow f64 root for every pixel.
                let f32_max = f64::from(f32::MAX);
                let mut huge = false;
                if let LocalStat::Std = what {
                    // a·m + b·s + c·m·s with (0, 1, 0) is s itself: no round trip to f64.
                    for i in 0..n {
                        let m = s1[i] as f64 * inv;
                        let var = s2[i] as f64 * inv - m * m;
                        huge |= var >= f32_max;
                        out[i] = if var <= 0.0 { 0.0 } else { (var as f32).sqrt() };
                    }
                } else {
                    for i in 0..n {
                        let m = s1[i] as f64 * inv;
                        let var = s2[i] as f64 * inv - m * m;
                        huge |= var >= f32_max;
                        let sd = if var <= 0.0 { 0.0 } else { f64::from((var as f32).sqrt()) };
                        out[i] = (a * m + b * sd + c * m * sd) as f32;
                    }
                }
                if huge {
                    for i in 0..n {
                        let m = s1[i] as f64 * inv;
                        let var = s2[i] as f64 * inv - m * m;
                        if var >= f32_max {
                            let sd = var.sqrt();
                            out[i] = (a * m + b * sd + c * m * sd) as f32;
                        }
                    }
                }
            }
        }
        autovectorized! {
            /// One row of `255 where pixel > threshold, else 0`.
            fn $binary(s1: &[$acc], s2: &[$acc], src: &[$px], inv: f64, t: LocalThreshold, out: &mut [u8]) {
                let n = out.len();
                let (s1, src) = (&s1[..n], &src[..n]);
                if let LocalThreshold::Mean { c } = t {
                    for i in 0..n {
                        let threshold = s1[i] as f64 * inv - c;
                        out[i] = if (src[i] as f64) > threshold { 255 } else { 0 };
                    }
                    return;
                }
                let s2 = &s2[..n];
                let (a, b, c) = match t {
                    LocalThreshold::Niblack { k } => (1.0, k, 0.0),
                    LocalThreshold::Sauvola { k, r } => (1.0 - k, 0.0, k / r),
                    LocalThreshold::Mean { .. } => unreachable!("handled above"),
                };
                for i in 0..n {
                    let m = s1[i] as f64 * inv;
                    let var = s2[i] as f64 * inv - m * m;
                    let sd = if var > 0.0 { var.sqrt() } else { 0.0 };
                    let threshold = a * m + b * sd + c * m * sd;
                    out[i] = if (src[i] as f64) > threshold { 255 } else { 0 };
                }
            }
        }
    };
}
stats_rows!(u32, u8, map_row_u32, binary_row_u32);
stats_rows!(f64, f32, map_row_f64, binary_row_f64);

/// Outputs per window-sum chunk of [`StatsPixel::map_columns`]'s reference form (two
/// f64 chunks of 4 KiB on the stack).
const MAP_CHUNK: usize = 256;

/// [`StatsPixel::map_columns`] as window sums then [`StatsPixel::map_row`], chunk by
/// chunk: the reference every fused form reproduces bit for bit.
fn map_columns_in_chunks<P: StatsPixel>(
    level: SimdLevel,
    p: &[P::Acc],
    q: &[P::Acc],
    k: usize,
    inv: f64,
    what: LocalStat,
    out: &mut [f32],
) {
    let squares = !q.is_empty();
    if k == 1 {
        // Window sums of one column are the column sums (wide windows hand theirs over
        // so): mapped in place, no copy.
        let n = out.len();
        let q = if squares { &q[..n] } else { q };
        return P::map_row(level, &p[..n], q, inv, what, out);
    }
    let (mut s, mut t) = (
        [P::Acc::default(); MAP_CHUNK],
        [P::Acc::default(); MAP_CHUNK],
    );
    for x in (0..out.len()).step_by(MAP_CHUNK) {
        let n = MAP_CHUNK.min(out.len() - x);
        let cols = x..x + n + k - 1;
        let (q, t) = if squares {
            (&q[cols.clone()], &mut t[..n])
        } else {
            (q, &mut t[..0])
        };
        sums_of_columns::<P>(level, &p[cols], q, k, &mut s[..n], t);
        P::map_row(level, &s[..n], t, inv, what, &mut out[x..x + n]);
    }
}

/// The row kernels of one pixel type.
pub trait StatsPixel: WindowPixel {
    /// A row of `what` from column sums (at least `out.len() + k − 1` of them, and of
    /// squares unless `what` is the mean or mean − c): the window sums of `k` columns, then
    /// [`Self::map_row`]; fused into one pass where a level has the kernel.
    #[doc(hidden)]
    fn map_columns(
        level: SimdLevel,
        p: &[Self::Acc],
        q: &[Self::Acc],
        k: usize,
        inv: f64,
        what: LocalStat,
        out: &mut [f32],
    ) {
        map_columns_in_chunks::<Self>(level, p, q, k, inv, what, out)
    }
    #[doc(hidden)]
    fn map_row(
        level: SimdLevel,
        s1: &[Self::Acc],
        s2: &[Self::Acc],
        inv: f64,
        what: LocalStat,
        out: &mut [f32],
    );
    #[doc(hidden)]
    fn binary_row(
        level: SimdLevel,
        s1: &[Self::Acc],
        s2: &[Self::Acc],
        src: &[Self],
        inv: f64,
        t: LocalThreshold,
        out: &mut [u8],
    );
}

impl StatsPixel for u8 {
    fn map_row(
        level: SimdLevel,
        s1: &[u32],
        s2: &[u32],
        inv: f64,
        what: LocalStat,
        out: &mut [f32],
    ) {
        map_row_u32(level, s1, s2, inv, what, out)
    }
    fn binary_row(
        level: SimdLevel,
        s1: &[u32],
        s2: &[u32],
        src: &[u8],
        inv: f64,
        t: LocalThreshold,
        out: &mut [u8],
    ) {
        binary_row_u32(level, s1, s2, src, inv, t, out)
    }
}

impl StatsPixel for f32 {
    fn map_columns(
        level: SimdLevel,
        p: &[f64],
        q: &[f64],
        k: usize,
        inv: f64,
        what: LocalStat,
        out: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if matches!(level, SimdLevel::Avx512 | SimdLevel::Avx512Vbmi)
            && SimdLevel::Avx512.is_supported()
            && k <= avx512::MAX_K
        {
            // SAFETY: the guard just checked that the CPU has AVX-512 F.
            let done = unsafe { avx512::map_columns(p, q, k, inv, what, out) };
            if !done {
                // A variance beyond f32 in the row: the reference takes its f64 root.
                map_columns_in_chunks::<f32>(level, p, q, k, inv, what, out);
            }
            return;
        }
        map_columns_in_chunks::<f32>(level, p, q, k, inv, what, out)
    }
    fn map_row(
        level: SimdLevel,
        s1: &[f64],
        s2: &[f64],
        inv: f64,
        what: LocalStat,
        out: &mut [f32],
    ) {
        map_row_f64(level, s1, s2, inv, what, out)
    }
    fn binary_row(
        level: SimdLevel,
        s1: &[f64],
        s2: &[f64],
        src: &[f32],
        inv: f64,
        t: LocalThreshold,
        out: &mut [u8],
    ) {
        binary_row_f64(level, s1, s2, src, inv, t, out)
    }
}

/// A reusable local-statistics plan over a square window; scratch kept between calls.
#[derive(Debug)]
pub struct LocalStats {
    window: usize,
    border: Border,
    scratch: Scratches,
}

impl LocalStats {
    /// A `window`×`window` neighbourhood (odd or even, 1..=255 for u8 images).
    pub fn new(window: usize, border: Border) -> Result<Self> {
        check_ksize("window", window, MAX_KSIZE)?;
        Ok(LocalStats {
            window,
            border,
            scratch: Scratches::default(),
        })
    }

    /// Checks the level, the window against the pixel type and the sizes, then streams
    /// the window sums (and sums of squares, if `squares`) of `src` into `emit`.
    fn stream<P: StatsPixel, D: Pixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, D>,
        squares: bool,
        emit: Emit<'_, P, D>,
    ) -> Result<()> {
        let level = level.check()?;
        self.check_for(P::DTYPE)?;
        check_same_size("output", src.size(), dst.size())?;
        let win = Window {
            kx: self.window,
            ky: self.window,
            border: self.border,
            squares,
        };
        window_sums(level, src, dst, win, &mut self.scratch, emit);
        Ok(())
    }

    /// `1 / window²`.
    fn inv_area(&self) -> f64 {
        1.0 / (self.window * self.window) as f64
    }

    /// An f32 map of `what`.
    fn map<P: StatsPixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
        what: LocalStat,
    ) -> Result<()> {
        let inv = self.inv_area();
        // The mean and mean − c need no sums of squares.
        let squares = !matches!(
            what,
            LocalStat::Mean | LocalStat::Threshold(LocalThreshold::Mean { .. })
        );
        self.stream(
            level,
            src,
            dst,
            squares,
            Emit::Columns(&|p: &[P::Acc], q: &[P::Acc], k: usize, out: &mut [f32]| {
                P::map_columns(level, p, q, k, inv, what, out)
            }),
        )
    }

    fn check_for(&self, dtype: DType) -> Result<()> {
        if dtype == DType::U8 {
            check_ksize("window", self.window, MAX_KSIZE_U8)?;
        }
        Ok(())
    }

    /// Local mean (f32 out).
    pub fn mean<P: StatsPixel>(
        &mut self,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.mean_at(simd::level()?, src, dst)
    }

    /// [`Self::mean`] at an explicit SIMD level.
    pub fn mean_at<P: StatsPixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.map(level, src, dst, LocalStat::Mean)
    }

    /// Local standard deviation (f32 out).
    pub fn std<P: StatsPixel>(
        &mut self,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.std_at(simd::level()?, src, dst)
    }

    /// [`Self::std`] at an explicit SIMD level.
    pub fn std_at<P: StatsPixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.map(level, src, dst, LocalStat::Std)
    }

    /// A threshold map (f32 out): Niblack, Sauvola or mean − c.
    pub fn threshold_map<P: StatsPixel>(
        &mut self,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
        method: LocalThreshold,
    ) -> Result<()> {
        self.threshold_map_at(simd::level()?, src, dst, method)
    }

    /// [`Self::threshold_map`] at an explicit SIMD level.
    pub fn threshold_map_at<P: StatsPixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, f32>,
        method: LocalThreshold,
    ) -> Result<()> {
        self.map(level, src, dst, LocalStat::Threshold(method.validate()?))
    }

    /// Binary output: 255 where the pixel is above its local threshold, else 0. The
    /// threshold map is never materialized.
    pub fn adaptive_threshold<P: StatsPixel>(
        &mut self,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, u8>,
        method: LocalThreshold,
    ) -> Result<()> {
        self.adaptive_threshold_at(simd::level()?, src, dst, method)
    }

    /// [`Self::adaptive_threshold`] at an explicit SIMD level.
    pub fn adaptive_threshold_at<P: StatsPixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, u8>,
        method: LocalThreshold,
    ) -> Result<()> {
        let method = method.validate()?;
        let inv = self.inv_area();
        let squares = !matches!(method, LocalThreshold::Mean { .. });
        self.stream(
            level,
            src,
            dst,
            squares,
            Emit::Sums(&|s1: &[P::Acc], s2: &[P::Acc], row: &[P], out: &mut [u8]| {
                P::binary_row(level, s1, s2, row, inv, method, out)
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every level's map of column sums (fused on AVX-512) gives the bits of the chunked
    /// reference at the scalar level: every map, every narrow width, rows around the
    /// vector width with and without columns to spare; variances exactly zero and just
    /// below it (constant windows), NaN, and variances beyond f32 (rooted in f64) in
    /// every lane, in one vector lane or only in the last output.
    #[test]
    fn maps_of_column_sums_match_the_reference_bit_for_bit() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let maps = [
            LocalStat::Mean,
            LocalStat::Std,
            LocalStat::Threshold(LocalThreshold::Mean { c: 3.5 }),
            LocalStat::Threshold(LocalThreshold::Niblack { k: -0.2 }),
            LocalStat::Threshold(LocalThreshold::Sauvola { k: 0.5, r: 128.0 }),
        ];
        for k in 1..=17 {
            for n in [1, 7, 8, 9, 16, 23, 40, 300] {
                for slack in [0, 1, 20] {
                    for case in 0..8 {
                        let len = n + k - 1 + slack;
                        // Column sums of k rows: p = k·v and q = k·v² for a column of v,
                        // spread a little apart (cases 0 to 3) so windows vary, or exactly
                        // (4, 5: constant windows, variance 0 or, nudged, just below).
                        let (mut p, mut q) = (Vec::new(), Vec::new());
                        let constant = 1.0 + next() * 254.0;
                        for _ in 0..len {
                            let v = match case {
                                0 | 6 | 7 => next() * 255.0,
                                1 => 1e3 + next() * 1e-3,
                                2 => next() * 1e21,
                                3 => next() * 2.0 - 1.0,
                                _ => constant,
                            };
                            let spread = if case == 4 || case == 5 {
                                1.0
                            } else {
                                1.0 + next() * 0.01
                            };
                            p.push(v * k as f64);
                            let sq = v * v * k as f64 * spread;
                            q.push(if case == 5 { sq.next_down() } else { sq });
                        }
                        match case {
                            3 => p[len / 2] = f64::NAN,
                            // One variance beyond f32 in a vector, or in the last output.
                            6 => q[len / 3] = 1e40,
                            7 => q[n + k - 2] = 1e40,
                            _ => {}
                        }
                        let inv = 1.0 / (k * k) as f64;
                        for what in maps {
                            let no_squares = matches!(
                                what,
                                LocalStat::Mean | LocalStat::Threshold(LocalThreshold::Mean { .. })
                            );
                            let q = if no_squares { &[][..] } else { &q[..] };
                            let mut want = vec![0f32; n];
                            map_columns_in_chunks::<f32>(
                                SimdLevel::Scalar,
                                &p,
                                q,
                                k,
                                inv,
                                what,
                                &mut want,
                            );
                            for level in SimdLevel::supported() {
                                let mut got = vec![f32::NAN; n];
                                <f32 as StatsPixel>::map_columns(
                                    level, &p, q, k, inv, what, &mut got,
                                );
                                let bits =
                                    |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                                assert_eq!(
                                    bits(&got),
                                    bits(&want),
                                    "{level} {what:?} k{k} n{n} +{slack} case {case}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
