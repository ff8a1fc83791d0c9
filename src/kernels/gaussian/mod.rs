//! Separable Gaussian blur for u8 and f32 images.
//!
//! Two 1-D passes instead of one 2-D window: O(kx + ky) work per pixel instead of
//! O(kx·ky). The passes run strip-wise: each band of output rows keeps a ring of the
//! last `ky + 1` horizontally filtered rows, so the vertical pass reads rows that are
//! still in cache and the image is streamed once; it makes two output rows per pass,
//! each ring row loaded once for both. Bands run in parallel; each owns its ring, made
//! once by the [`GaussianBlur`] plan, so repeated calls allocate nothing.
//!
//! u8 uses fixed point (see `scalar.rs`), in one of two forms:
//! - kernels up to [`FAST_MAX_KSIZE`] taps per axis run entirely in 16 bits: pixels in
//!   Q6, symmetric Q15 taps, rounding high multiplies (`vpmulhrsw`, `sqrdmulh`) on
//!   pixel pairs. Error against a float64 reference of the same kernel: 0.5 (final
//!   rounding) + (r+1)/128 per axis (one rounding per tap) + under 0.07 (quantized taps),
//!   so below 0.82 for 31 taps;
//! - larger kernels sum exactly in 32 bits: Q14 taps, a Q7 intermediate, error 0.5 +
//!   2^-8 + 255·⌈k/2⌉·2^-15 per axis.
//!
//! - OpenCV's fixed 3x3 and 5x5 tables are binomials, run by `binomial.rs` in exact
//!   integers in one pass: the exactly rounded result (error at most 0.5).
//!
//! All are tested to stay within ±1 (on random images and sharp edges). f32 stays within
//! 1e-5 relative of the float64 reference.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod binomial;
pub mod boxes;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod scalar;

use crate::image::{DType, ImageView, ImageViewMut, Pixel, check_same_size};
use crate::kernels::border::{Border, pad_row};
use crate::kernels::parallel;
use crate::simd::dispatch;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Largest kernel size accepted (per axis).
pub const MAX_KSIZE: usize = 2047;

/// Largest sigma accepted (the box cascade's widths stay within the box filter's limits).
pub const MAX_SIGMA: f64 = 1000.0;

/// Runs `$body` with `$d` = 1, 2, … up to the constant `$R` (at most 15), fully
/// unrolled: LLVM leaves a 15-iteration tap loop rolled, and its overhead (index
/// arithmetic, taps reloaded from the stack) doubles the instructions per pixel.
macro_rules! for_taps {
    ($R:ident, $d:ident => $body:block) => {
        $crate::kernels::gaussian::for_taps!(@ $R, $d, $body, 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@ $R:ident, $d:ident, $body:block, $($n:literal)*) => {
        const { assert!($R <= 15, "for_taps! unrolls at most 15 taps") };
        $(
            if $n <= $R {
                let $d: usize = $n;
                $body
            }
        )*
    };
}
pub(crate) use for_taps;

/// Runs `$body` with `$R` bound to the constant equal to `$r` (0..=15), so row passes
/// can be unrolled per kernel radius.
macro_rules! with_radius {
    ($r:expr, $R:ident => $body:expr) => {
        match $r {
            0 => {
                const $R: usize = 0;
                $body
            }
            1 => {
                const $R: usize = 1;
                $body
            }
            2 => {
                const $R: usize = 2;
                $body
            }
            3 => {
                const $R: usize = 3;
                $body
            }
            4 => {
                const $R: usize = 4;
                $body
            }
            5 => {
                const $R: usize = 5;
                $body
            }
            6 => {
                const $R: usize = 6;
                $body
            }
            7 => {
                const $R: usize = 7;
                $body
            }
            8 => {
                const $R: usize = 8;
                $body
            }
            9 => {
                const $R: usize = 9;
                $body
            }
            10 => {
                const $R: usize = 10;
                $body
            }
            11 => {
                const $R: usize = 11;
                $body
            }
            12 => {
                const $R: usize = 12;
                $body
            }
            13 => {
                const $R: usize = 13;
                $body
            }
            14 => {
                const $R: usize = 14;
                $body
            }
            15 => {
                const $R: usize = 15;
                $body
            }
            r => panic!("radius {r} is above the fast path's limit"),
        }
    };
}
pub(crate) use with_radius;

/// Checks that `len` values from every ring row offset lie inside `ring`: the one bounds
/// check that makes a vertical pass's unchecked loads sound (loads at `offset + i` for
/// `i + lanes <= len`).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn check_ring_rows<T>(ring: &[T], offsets: &[usize], len: usize) {
    assert!(
        offsets
            .iter()
            .all(|&o| o.checked_add(len).is_some_and(|end| end <= ring.len())),
        "ring row too short"
    );
}

/// The rows an unrolled vertical pass reads, as pointers into `ring`, after
/// [`check_ring_rows`]; slots past `offsets.len()` repeat the last row (an unrolled
/// pass may name them without reading them).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn ring_row_ptrs<T, const N: usize>(ring: &[T], offsets: &[usize], len: usize) -> [*const T; N] {
    assert!(
        !offsets.is_empty() && offsets.len() <= N,
        "taps and rows differ"
    );
    check_ring_rows(ring, offsets, len);
    let last = offsets.len() - 1;
    std::array::from_fn(|k| ring.as_ptr().wrapping_add(offsets[k.min(last)]))
}

/// Largest kernel (per axis) of the 16-bit u8 path; its error bound stays below 1 up to here.
pub const FAST_MAX_KSIZE: usize = 31;

/// Below this many pixels a blur stays on one thread.
const PAR_MIN_PIXELS: usize = 1 << 16;

/// Extra elements after every scratch row so SIMD loads may run past the row's end.
const SLACK: usize = 128;

/// Kernel sizes and sigmas, resolved the way OpenCV's `GaussianBlur` resolves them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianParams {
    /// Kernel width and height: odd, or 0 to derive from sigma.
    pub ksize: (usize, usize),
    /// Sigma along x and y: > 0, or 0 to derive from the kernel size
    /// (`0.3·((k−1)/2 − 1) + 0.8`). A zero sigma y means "same as x".
    pub sigma: (f64, f64),
    pub border: Border,
    /// Direct convolution, the constant-time box cascade, or the faster of the two.
    pub method: GaussianMethod,
}

/// How a Gaussian is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GaussianMethod {
    /// Direct below the measured crossover ([`BOXES_FROM_KSIZE_U8`],
    /// [`BOXES_FROM_KSIZE_F32`]), box cascade above.
    #[default]
    Auto,
    /// Separable convolution with the exact kernel: O(k) per pixel.
    Direct,
    /// Three box filters ([`boxes`]): O(1) per pixel, approximate.
    Boxes,
}

impl GaussianMethod {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(GaussianMethod::Auto),
            "direct" => Ok(GaussianMethod::Direct),
            "boxes" => Ok(GaussianMethod::Boxes),
            other => Err(Error::bad_param(
                "method",
                format!("'{other}' is not one of auto, direct, boxes"),
            )),
        }
    }
}

/// Kernel size (largest axis) from which `Auto` takes the box cascade for u8 images.
pub const BOXES_FROM_KSIZE_U8: usize = 33;
/// Kernel size (largest axis) from which `Auto` takes the box cascade for f32 images.
pub const BOXES_FROM_KSIZE_F32: usize = 115;

/// The sigma a kernel of `ksize` has when none is given (OpenCV's rule).
pub fn sigma_for_ksize(ksize: usize) -> f64 {
    0.3 * ((ksize as f64 - 1.0) * 0.5 - 1.0) + 0.8
}

impl GaussianParams {
    /// A square kernel: `ksize` odd (or 0 to derive from `sigma`), `sigma` > 0 (or 0 to
    /// derive from `ksize`).
    pub fn new(ksize: usize, sigma: f64) -> Self {
        GaussianParams {
            ksize: (ksize, ksize),
            sigma: (sigma, 0.0),
            border: Border::default(),
            method: GaussianMethod::Auto,
        }
    }

    pub fn with_border(mut self, border: Border) -> Self {
        self.border = border;
        self
    }

    pub fn with_method(mut self, method: GaussianMethod) -> Self {
        self.method = method;
        self
    }

    /// The sigmas (x, y) the kernels for `dtype` have.
    pub fn sigmas(&self, dtype: DType) -> Result<(f64, f64)> {
        let (kx, ky) = self.kernels(dtype)?;
        let (sx, sy) = self.sigma;
        let sy = if sy == 0.0 { sx } else { sy };
        let pick = |s: f64, k: usize| if s > 0.0 { s } else { sigma_for_ksize(k) };
        Ok((pick(sx, kx.len()), pick(sy, ky.len())))
    }

    /// Separate kernel sizes and sigmas per axis.
    pub fn anisotropic(ksize: (usize, usize), sigma: (f64, f64)) -> Self {
        GaussianParams {
            ksize,
            sigma,
            border: Border::default(),
            method: GaussianMethod::Auto,
        }
    }

    /// The two 1-D kernels (x, y) in f64 for pixels of `dtype`.
    pub fn kernels(&self, dtype: DType) -> Result<(Vec<f64>, Vec<f64>)> {
        let (sx, sy) = self.sigma;
        let sy = if sy == 0.0 { sx } else { sy };
        for (name, s) in [("sigma", sx), ("sigma_y", sy)] {
            if !(0.0..=MAX_SIGMA).contains(&s) {
                return Err(Error::bad_param(
                    name,
                    format!("must be in 0..={MAX_SIGMA}, got {s}"),
                ));
            }
        }
        let resolve = |name: &str, k: usize, s: f64| -> Result<usize> {
            match (k, s > 0.0) {
                (0, false) => Err(Error::bad_param(
                    name,
                    "kernel size 0 needs a sigma > 0 to derive it from",
                )),
                (0, true) => Ok(ksize_for_sigma(s, dtype)),
                (k, _) => Ok(k),
            }
        };
        let kx = resolve("ksize", self.ksize.0, sx)?;
        let ky = resolve("ksize_y", self.ksize.1, sy)?;
        Ok((gaussian_kernel(kx, sx)?, gaussian_kernel(ky, sy)?))
    }
}

/// The kernel size OpenCV derives from sigma: `round(2·n·σ + 1) | 1` with n = 3 for u8
/// and 4 for float images, capped at [`MAX_KSIZE`].
pub fn ksize_for_sigma(sigma: f64, dtype: DType) -> usize {
    let n = if dtype == DType::U8 { 3.0 } else { 4.0 };
    ((((sigma * n * 2.0 + 1.0).round()) as usize) | 1).min(MAX_KSIZE)
}

/// The normalized 1-D Gaussian of odd size `ksize`. With `sigma <= 0` sizes 1, 3, 5 and
/// 7 use OpenCV's fixed binomial-like tables; otherwise sigma (or the one derived from
/// the size) gives `exp(−x²/2σ²)`, normalized to sum 1.
pub fn gaussian_kernel(ksize: usize, sigma: f64) -> Result<Vec<f64>> {
    if ksize.is_multiple_of(2) || ksize > MAX_KSIZE {
        return Err(Error::bad_param(
            "ksize",
            format!("must be odd and in 1..={MAX_KSIZE}, got {ksize}"),
        ));
    }
    if sigma <= 0.0 {
        let fixed: Option<&[f64]> = match ksize {
            1 => Some(&[1.0]),
            3 => Some(&[0.25, 0.5, 0.25]),
            5 => Some(&[0.0625, 0.25, 0.375, 0.25, 0.0625]),
            7 => Some(&[
                0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125,
            ]),
            // OpenCV 5 added a fixed 9-tap table.
            9 => Some(&[
                0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875,
                0.05078125, 0.015625,
            ]),
            _ => None,
        };
        if let Some(k) = fixed {
            return Ok(k.to_vec());
        }
    }
    let sigma = if sigma > 0.0 {
        sigma
    } else {
        0.3 * ((ksize as f64 - 1.0) * 0.5 - 1.0) + 0.8
    };
    let r = (ksize / 2) as f64;
    let two_var = 2.0 * sigma * sigma;
    if two_var < f64::MIN_POSITIVE {
        // A sigma so small its square underflows: the kernel is a unit impulse.
        return Ok((0..ksize)
            .map(|i| if i == ksize / 2 { 1.0 } else { 0.0 })
            .collect());
    }
    let raw: Vec<f64> = (0..ksize)
        .map(|i| (-(i as f64 - r).powi(2) / two_var).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    Ok(raw.into_iter().map(|v| v / sum).collect())
}

/// Q14 taps summing to exactly 2^14 (largest-remainder rounding), padded with a zero
/// tap to an even count so SIMD can multiply pairs.
fn quantize_q14(k: &[f64]) -> Vec<i16> {
    const ONE: i64 = 1 << 14;
    let scaled: Vec<f64> = k.iter().map(|&c| c * ONE as f64).collect();
    let mut q: Vec<i64> = scaled.iter().map(|v| v.floor() as i64).collect();
    let deficit = ONE - q.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..k.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (scaled[a] - scaled[a].floor(), scaled[b] - scaled[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().take(deficit.max(0) as usize) {
        q[i] += 1;
    }
    let mut q: Vec<i16> = q.into_iter().map(|v| v as i16).collect();
    if !q.len().is_multiple_of(2) {
        q.push(0);
    }
    q
}

/// The Q15 taps `t[d]` at distance `d = 0..=r` of a symmetric kernel, centre adjusted so
/// `t[0] + 2·Σ t[d>0] = 2^15` (capped at `i16::MAX`; the 1/32768 shortfall is harmless).
/// `None` if the kernel is too large for the 16-bit path.
fn quantize_q15_half(k: &[f64]) -> Option<Vec<i16>> {
    if k.len() > FAST_MAX_KSIZE {
        return None;
    }
    let r = k.len() / 2;
    let mut t: Vec<i32> = (0..=r)
        .map(|d| (k[r + d] * 32768.0).round() as i32)
        .collect();
    let side: i32 = t[1..].iter().sum();
    t[0] = (32768 - 2 * side).min(i32::from(i16::MAX));
    (t[0] >= 0).then(|| t.into_iter().map(|v| v as i16).collect())
}

/// Scratch of one band: a padded source row (`P`) and a ring of horizontally filtered
/// rows (`M`), or (the f32 vertical-first path) the ring of vertical sums and their
/// transposed columns.
#[derive(Debug, Default)]
struct Strip<P, M> {
    padded: Vec<P>,
    /// Ring rows from `ring[ring_start..]`: 64-byte aligned, so full-vector loads of a
    /// column block never straddle two cache lines.
    ring: Vec<M>,
    ring_start: usize,
    row_len: usize,
    offsets: Vec<usize>,
    /// The f32 vertical-first path's eight rows, transposed for the horizontal pass.
    columns: Vec<M>,
}

impl<P: Copy + Default, M: Copy + Default> Strip<P, M> {
    /// Sizes the buffers for tiles of `width` columns; allocates only when they must grow.
    fn fit(&mut self, width: usize, padded_len: usize, ring_rows: usize, offsets: usize) {
        // An odd number of cache lines per ring row: with a power-of-two row stride all
        // rows of a column fall into one cache set and the vertical pass thrashes L1
        // (f32 k=69..73 on 4K ran 4x slower, with 1024-float rows).
        let line = (64 / size_of::<M>()).max(1);
        let row_len = width.next_multiple_of(64) + SLACK;
        self.row_len = if (row_len / line).is_multiple_of(2) {
            row_len + line
        } else {
            row_len
        };
        self.padded.resize(padded_len + SLACK, P::default());
        self.ring
            .resize(ring_rows * self.row_len + line, M::default());
        // `align_offset` may in principle decline; the ring then stays unaligned, which
        // costs speed, never correctness.
        self.ring_start = match self.ring.as_ptr().align_offset(64) {
            o if o < line => o,
            _ => 0,
        };
        self.offsets.resize(offsets, 0);
    }
}

/// A reusable Gaussian blur: kernels resolved once, scratch owned and reused, so
/// repeated calls on frames of one size allocate nothing.
#[derive(Debug)]
pub struct GaussianBlur {
    params: GaussianParams,
    taps_u8: (Vec<i16>, Vec<i16>),
    /// Q15 half-kernels of the 16-bit path, when both axes are small enough.
    taps_u8_fast: Option<(Vec<i16>, Vec<i16>)>,
    len_u8: (usize, usize),
    taps_f32: (Vec<f32>, Vec<f32>),
    strips_u8_fast: Vec<Strip<u8, i16>>,
    strips_u8: Vec<Strip<i16, i16>>,
    strips_f32: Vec<Strip<f32, f32>>,
    /// 3 or 5 when both u8 kernels are that binomial exactly (OpenCV's fixed 3x3 and
    /// 5x5 tables): one exact integer pass, see `binomial.rs`.
    binomial: Option<usize>,
    binomial_scratch: Vec<binomial::Scratch>,
    /// The constant-time path, when u8 or f32 images take it.
    cascade: Option<boxes::BoxCascade>,
    boxes_u8: bool,
    boxes_f32: bool,
}

impl GaussianBlur {
    /// Resolves and checks the parameters (even or zero sizes without sigma, negative
    /// sigma are errors).
    pub fn new(params: GaussianParams) -> Result<Self> {
        let (kx8, ky8) = params.kernels(DType::U8)?;
        let (kxf, kyf) = params.kernels(DType::F32)?;
        let f32s = |k: &[f64]| k.iter().map(|&v| v as f32).collect::<Vec<f32>>();
        // Each box re-pads its input; only reflect-101 composes into the reflected
        // Gaussian, so other borders always take the direct path.
        let reflect = params.border == Border::Reflect101;
        if params.method == GaussianMethod::Boxes && !reflect {
            return Err(Error::bad_param(
                "method",
                "the box cascade supports border=reflect101 only",
            ));
        }
        let takes_boxes = |kx: usize, ky: usize, from: usize| match params.method {
            GaussianMethod::Auto => reflect && kx.max(ky) >= from,
            GaussianMethod::Direct => false,
            GaussianMethod::Boxes => true,
        };
        let boxes_u8 = takes_boxes(kx8.len(), ky8.len(), BOXES_FROM_KSIZE_U8);
        let boxes_f32 = takes_boxes(kxf.len(), kyf.len(), BOXES_FROM_KSIZE_F32);
        let cascade = if boxes_u8 || boxes_f32 {
            Some(boxes::BoxCascade::new(
                params.sigmas(DType::F32)?,
                params.border,
            )?)
        } else {
            None
        };
        let binomial = match (binomial::order_of(&kx8), binomial::order_of(&ky8)) {
            (Some(a), Some(b)) if a == b && !boxes_u8 => Some(a),
            _ => None,
        };
        Ok(GaussianBlur {
            binomial,
            binomial_scratch: Vec::new(),
            cascade,
            boxes_u8,
            boxes_f32,
            params,
            len_u8: (kx8.len(), ky8.len()),
            taps_u8: (quantize_q14(&kx8), quantize_q14(&ky8)),
            taps_u8_fast: quantize_q15_half(&kx8).zip(quantize_q15_half(&ky8)),
            taps_f32: (f32s(&kxf), f32s(&kyf)),
            strips_u8_fast: Vec::new(),
            strips_u8: Vec::new(),
            strips_f32: Vec::new(),
        })
    }

    pub fn params(&self) -> &GaussianParams {
        &self.params
    }

    /// Kernel sizes (x, y) used for u8 images.
    pub fn ksize_u8(&self) -> (usize, usize) {
        self.len_u8
    }

    /// Kernel sizes (x, y) used for f32 images.
    pub fn ksize_f32(&self) -> (usize, usize) {
        (self.taps_f32.0.len(), self.taps_f32.1.len())
    }

    /// Blurs a u8 image into `dst` (same size) at the process's SIMD level.
    pub fn apply_u8(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        self.apply_u8_at(simd::level()?, src, dst)
    }

    /// [`Self::apply_u8`] at an explicit SIMD level.
    pub fn apply_u8_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let level = level.check()?;
        check_same_size("output", src.size(), dst.size())?;
        if let (true, Some(cascade)) = (self.boxes_u8, &mut self.cascade) {
            return cascade.apply_u8(level, src, dst);
        }
        let (kx, ky) = self.len_u8;
        let (qx, qy) = (&self.taps_u8.0, &self.taps_u8.1);
        let border = self.params.border;
        let constant = border.constant_u8();
        if let Some(order) = self.binomial {
            binomial::blur(
                level,
                order,
                border,
                constant,
                src,
                dst,
                &mut self.binomial_scratch,
            );
            return Ok(());
        }
        if let Some((tx, ty)) = &self.taps_u8_fast {
            let passes = Passes {
                kx,
                ky,
                offsets: ky,
                border,
                constant_mid: i16::from(constant) << 6,
                h: &|row: &[u8], x0: usize, padded: &mut [u8], out: &mut [i16]| {
                    let first = x0 as isize - (kx / 2) as isize;
                    h_pass(row, first, kx, border, constant, padded, out, |p, out| {
                        dispatch!(level => h_row_u8_fast(p, tx, out));
                    });
                },
                v: &|ring: &[i16], offsets: &[usize], out: &mut [u8]| {
                    dispatch!(level => v_row_u8_fast(ring, offsets, ty, out));
                },
                v2: Some(
                    &|ring: &[i16], offsets: &[usize], a: &mut [u8], b: &mut [u8]| {
                        dispatch!(level => v_row_u8_fast2(ring, offsets, ty, a, b));
                    },
                ),
                v4: Some(&|ring: &[i16], offsets: &[usize], out: [&mut [u8]; 4]| {
                    dispatch!(level => v_row_u8_fast4(ring, offsets, ty, out));
                }),
            };
            run(src, dst, &mut self.strips_u8_fast, &passes);
            return Ok(());
        }
        let passes = Passes {
            kx,
            ky,
            offsets: qy.len(),
            border,
            constant_mid: i16::from(constant) << 7,
            h: &|row: &[u8], x0: usize, padded: &mut [i16], out: &mut [i16]| {
                let len = out.len() + kx + 1;
                pad_row(
                    row,
                    x0 as isize - (kx / 2) as isize,
                    border,
                    i16::from(constant),
                    i16::from,
                    &mut padded[..len],
                    |row, middle| {
                        middle
                            .iter_mut()
                            .zip(row)
                            .for_each(|(m, &v)| *m = i16::from(v))
                    },
                );
                dispatch!(level => h_row_u8(padded, qx, out));
            },
            v: &|ring: &[i16], offsets: &[usize], out: &mut [u8]| {
                dispatch!(level => v_row_u8(ring, offsets, qy, out));
            },
            v2: None,
            v4: None,
        };
        run(src, dst, &mut self.strips_u8, &passes);
        Ok(())
    }

    /// Blurs an f32 image into `dst` (same size) at the process's SIMD level.
    pub fn apply_f32(
        &mut self,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.apply_f32_at(simd::level()?, src, dst)
    }

    /// [`Self::apply_f32`] at an explicit SIMD level.
    pub fn apply_f32_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        let level = level.check()?;
        check_same_size("output", src.size(), dst.size())?;
        if let (true, Some(cascade)) = (self.boxes_f32, &mut self.cascade) {
            return cascade.apply_f32(level, src, dst);
        }
        let (cx, cy) = (&self.taps_f32.0, &self.taps_f32.1);
        let border = self.params.border;
        let constant = match border {
            Border::Constant(v) => v,
            // Measured at 4K: k = 31 13.6-14.5 -> 12.4-13.0 ms; k = 61 35 -> 52 ms, where
            // the vertical pass has no unrolled form (r > 15).
            _ if cy.len() <= VERTICAL_FIRST_MAX_KSIZE => {
                vertical_first_f32(level, src, dst, &mut self.strips_f32, (cx, cy), border);
                return Ok(());
            }
            _ => 0.0,
        };
        let passes = Passes {
            kx: cx.len(),
            ky: cy.len(),
            offsets: cy.len(),
            border,
            constant_mid: constant,
            h: &|row: &[f32], x0: usize, padded: &mut [f32], out: &mut [f32]| {
                let first = x0 as isize - (cx.len() / 2) as isize;
                h_pass(
                    row,
                    first,
                    cx.len(),
                    border,
                    constant,
                    padded,
                    out,
                    |p, out| {
                        dispatch!(level => h_row_f32(p, cx, out));
                    },
                );
            },
            v: &|ring: &[f32], offsets: &[usize], out: &mut [f32]| {
                dispatch!(level => v_row_f32(ring, offsets, cy, out));
            },
            v2: Some(
                &|ring: &[f32], offsets: &[usize], a: &mut [f32], b: &mut [f32]| {
                    dispatch!(level => v_row_f32_2(ring, offsets, cy, a, b));
                },
            ),
            v4: Some(&|ring: &[f32], offsets: &[usize], out: [&mut [f32]; 4]| {
                dispatch!(level => v_row_f32_4(ring, offsets, cy, out));
            }),
        };
        run(src, dst, &mut self.strips_f32, &passes);
        Ok(())
    }
}

/// One-call u8 blur (allocates its plan; keep a [`GaussianBlur`] for repeated calls).
pub fn gaussian_blur_u8(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    ksize: usize,
    sigma: f64,
) -> Result<()> {
    GaussianBlur::new(GaussianParams::new(ksize, sigma))?.apply_u8(src, dst)
}

/// One-call f32 blur (allocates its plan; keep a [`GaussianBlur`] for repeated calls).
pub fn gaussian_blur_f32(
    src: &ImageView<'_, f32>,
    dst: &mut ImageViewMut<'_, f32>,
    ksize: usize,
    sigma: f64,
) -> Result<()> {
    GaussianBlur::new(GaussianParams::new(ksize, sigma))?.apply_f32(src, dst)
}

/// Filters the segment of a source row starting at column `x0` horizontally into the
/// second buffer (whose length is the segment's width): from the row itself when the
/// kernel's reach lies inside it, else from a copy padded by the border in the first.
type HorizontalPass<'a, S, P, M> = &'a (dyn Fn(&[S], usize, &mut [P], &mut [M]) + Sync);
/// Filters the ring rows at the given offsets into one output row.
type VerticalPass<'a, M, D> = &'a (dyn Fn(&[M], &[usize], &mut [D]) + Sync);
/// Filters two consecutive output rows from `ky + 1` ring rows (each row read once for
/// both), with the same bits as two calls of the one-row pass.
type VerticalPass2<'a, M, D> = &'a (dyn Fn(&[M], &[usize], &mut [D], &mut [D]) + Sync);
/// Filters four consecutive output rows from `ky + 3` ring rows, with the same bits as
/// four calls of the one-row pass.
type VerticalPass4<'a, M, D> = &'a (dyn Fn(&[M], &[usize], [&mut [D]; 4]) + Sync);

/// The two passes of one blur, for the strip driver.
struct Passes<'a, S, P, M, D> {
    kx: usize,
    ky: usize,
    /// Number of vertical taps the `v` pass reads (`ky`, or `ky + 1` when padded even).
    offsets: usize,
    border: Border,
    /// The horizontally filtered value of a constant-border row.
    constant_mid: M,
    h: HorizontalPass<'a, S, P, M>,
    v: VerticalPass<'a, M, D>,
    /// The two-row vertical pass, where there is one (it needs `offsets == ky`).
    v2: Option<VerticalPass2<'a, M, D>>,
    /// The four-row vertical pass, where there is one (it needs a two-row pass too).
    v4: Option<VerticalPass4<'a, M, D>>,
}

impl<S, P, M, D> Passes<'_, S, P, M, D> {
    /// Output rows the widest vertical pass makes at once.
    fn most_rows(&self) -> usize {
        if self.v4.is_some() {
            4
        } else if self.v2.is_some() {
            2
        } else {
            1
        }
    }

    /// Rows the ring holds: `ky`, and one more per extra row of the widest vertical pass.
    fn ring_rows(&self) -> usize {
        self.ky + self.most_rows() - 1
    }
}

fn run<S: Pixel, P: Copy + Default + Send, M: Copy + Default + Send + Sync, D: Pixel>(
    src: &ImageView<'_, S>,
    dst: &mut ImageViewMut<'_, D>,
    strips: &mut Vec<Strip<P, M>>,
    passes: &Passes<'_, S, P, M, D>,
) {
    let (w, h) = src.size();
    let band_rows = if w * h < PAR_MIN_PIXELS {
        h
    } else {
        parallel::band_rows_for(h, 2 * passes.ky)
    };
    let bands = h.div_ceil(band_rows);
    if strips.len() < bands {
        strips.resize_with(bands, Strip::default);
    }
    let ring_rows = passes.ring_rows();
    let tile = tile_width(RING_BYTES, w, ring_rows, size_of::<M>());
    for strip in strips.iter_mut() {
        strip.fit(
            tile,
            tile + passes.kx + 1,
            ring_rows,
            passes.offsets.max(ring_rows),
        );
    }
    parallel::for_each_band_with_scratch(dst.reborrow(), band_rows, strips, &|y0, band, strip| {
        blur_band(src, y0, band, strip, tile, passes)
    });
}

/// The `len` source columns from `first` (which may lie outside the row): the row itself
/// when they lie inside it, else a copy padded by the border in `padded`.
fn window<'a, T: Copy>(
    row: &'a [T],
    first: isize,
    len: usize,
    border: Border,
    constant: T,
    padded: &'a mut [T],
) -> &'a [T] {
    match usize::try_from(first) {
        Ok(a) if a + len <= row.len() => &row[a..a + len],
        _ => {
            let padded = &mut padded[..len];
            pad_row(
                row,
                first,
                border,
                constant,
                |v| v,
                padded,
                |row, middle| middle.copy_from_slice(row),
            );
            padded
        }
    }
}

/// Runs a horizontal pass `h(p, out)` (output `i` from `p[i..i + k]`) whose first
/// window starts at column `first` of `row`: windows inside the row read it in place,
/// and only those near an edge go through `padded` (a copy of the whole row for every
/// row cost a fifth of a 7x7 blur).
#[allow(clippy::too_many_arguments)]
fn h_pass<T: Copy, O>(
    row: &[T],
    first: isize,
    k: usize,
    border: Border,
    constant: T,
    padded: &mut [T],
    out: &mut [O],
    h: impl Fn(&[T], &mut [O]),
) {
    const STEP: usize = 64;
    let n = out.len();
    // Outputs lo..hi have their whole window inside the row; the in-place part starts
    // and ends a multiple of STEP from the first output, so the SIMD kernels' scalar
    // tails stay where they were (at most one per row).
    let lo = (-first).clamp(0, n as isize) as usize;
    let hi = (row.len() as isize + 1 - k as isize - first).clamp(lo as isize, n as isize) as usize;
    let lo = lo.next_multiple_of(STEP);
    let hi = if hi > lo {
        lo + (hi - lo) / STEP * STEP
    } else {
        lo
    };
    if hi <= lo {
        h(window(row, first, n + k - 1, border, constant, padded), out);
        return;
    }
    let (left, rest) = out.split_at_mut(lo);
    let (middle, right) = rest.split_at_mut(hi - lo);
    if lo > 0 {
        h(
            window(row, first, lo + k - 1, border, constant, padded),
            left,
        );
    }
    let a = (first + lo as isize) as usize;
    h(&row[a..a + hi - lo + k - 1], middle);
    if hi < n {
        let from = first + hi as isize;
        h(
            window(row, from, n - hi + k - 1, border, constant, padded),
            right,
        );
    }
}

/// Ring bytes a column tile aims for, so the vertical pass reads from L2 even on boards
/// with small caches (Raspberry Pi 5: 512 KB L2 per core). Measured on the x86 machine of
/// the README: from 32 KB to 1 MB the time changes by less than the run-to-run noise.
const RING_BYTES: usize = 256 * 1024;

/// Columns per tile: as wide as keeps the ring of `rows` rows within `budget` bytes (at
/// least 256 columns, a multiple of 64), and never wider than the image.
fn tile_width(budget: usize, width: usize, rows: usize, elem: usize) -> usize {
    let fit = (budget / rows.saturating_mul(elem).max(1)).max(256) / 64 * 64;
    fit.min(width)
}

/// Bytes of source rows a step of [`vertical_first_f32`] may span: five eighths of the
/// core's L2 ([`RING_BYTES`] where that is unknown, and never less). The next step's new
/// rows are prefetched into L2 while a step runs, so the rows must stay there; wider
/// tiles make fewer, longer passes. On the README's machine (1 MiB of L2), 4K, 31 taps,
/// one thread: 8.6 ms with 256 KiB tiles, 8.3 with 512 KiB, 8.0 with whole rows (583
/// KiB, which this allows).
fn vertical_first_budget() -> usize {
    simd::l2_cache_bytes().map_or(RING_BYTES, |l2| (l2 / 8 * 5).max(RING_BYTES))
}

/// Columns per tile of the f32 vertical-first path for an image `width` wide and a
/// vertical kernel of `ky` taps, on this machine (it depends on the L2 cache): for tests
/// that want tiles of given widths.
pub fn vertical_first_tile_width(width: usize, ky: usize) -> usize {
    tile_width(
        vertical_first_budget(),
        width,
        ky.saturating_add(7),
        size_of::<f32>(),
    )
}

/// Blurs output rows `y0..y0 + band.height()`, one column tile after another; two rows
/// per vertical pass where the passes have a two-row form.
fn blur_band<S: Pixel, P: Copy + Default, M: Copy + Default, D: Pixel>(
    src: &ImageView<'_, S>,
    y0: usize,
    mut band: ImageViewMut<'_, D>,
    strip: &mut Strip<P, M>,
    tile: usize,
    passes: &Passes<'_, S, P, M, D>,
) {
    let (w, h) = src.size();
    let ky = passes.ky;
    let r = (ky / 2) as isize;
    let row_len = strip.row_len;
    let ring_rows = passes.ring_rows() as isize;
    let slot = |virtual_row: isize| virtual_row.rem_euclid(ring_rows) as usize * row_len;
    let Strip {
        padded,
        ring,
        ring_start,
        offsets,
        ..
    } = strip;
    let ring = &mut ring[*ring_start..];
    let height = band.height();
    for x0 in (0..w).step_by(tile) {
        let tw = tile.min(w - x0);
        let fill = |ring: &mut [M], padded: &mut [P], virtual_row: isize| {
            let at = slot(virtual_row);
            let out = &mut ring[at..at + tw];
            match passes.border.map(virtual_row, h) {
                Some(y) => (passes.h)(src.row(y), x0, padded, out),
                None => out.fill(passes.constant_mid),
            }
        };
        // The next source row (virtual: may lie outside the image) to filter into the ring.
        let mut next = y0 as isize - r;
        let mut k = 0;
        while k < height {
            let y = (y0 + k) as isize;
            let four = passes.v4.filter(|_| k + 3 < height);
            let pair = passes.v2.filter(|_| four.is_none() && k + 1 < height);
            let rows = if four.is_some() {
                4
            } else if pair.is_some() {
                2
            } else {
                1
            };
            let last = y + r + rows - 1;
            while next <= last {
                fill(ring, padded, next);
                next += 1;
            }
            if let Some(v4) = four {
                for (j, off) in offsets[..ky + 3].iter_mut().enumerate() {
                    *off = slot(y - r + j as isize);
                }
                let out = band
                    .consecutive_rows_mut::<4>(k)
                    .map(|row| &mut row[x0..x0 + tw]);
                v4(ring, &offsets[..ky + 3], out);
                k += 4;
            } else if let Some(v2) = pair {
                for (j, off) in offsets[..ky + 1].iter_mut().enumerate() {
                    *off = slot(y - r + j as isize);
                }
                let (a, b) = band.two_rows_mut(k);
                v2(
                    ring,
                    &offsets[..ky + 1],
                    &mut a[x0..x0 + tw],
                    &mut b[x0..x0 + tw],
                );
                k += 2;
            } else {
                let taps = &mut offsets[..passes.offsets];
                for (j, off) in taps.iter_mut().enumerate() {
                    // Taps beyond ky (the even padding) have weight 0; any valid row will do.
                    *off = slot(y - r + j.min(ky - 1) as isize);
                }
                (passes.v)(ring, taps, &mut band.row_mut(k)[x0..x0 + tw]);
                k += 1;
            }
        }
    }
}

/// Largest vertical f32 kernel that takes [`vertical_first_f32`].
const VERTICAL_FIRST_MAX_KSIZE: usize = 31;

/// The f32 blur for borders that map every row and column into the image: the vertical
/// pass first, eight output rows at a time (four, two or one for the last rows of a
/// band) straight from the source rows (which stay in L2 from one step to the next: the
/// source is the ring, with no copy and no ring to write), into rows of sums padded by
/// the border, which the horizontal pass then filters into the output. Two passes over the pixels instead of the copy, the
/// horizontal pass into the ring and the vertical pass out of it.
fn vertical_first_f32(
    level: SimdLevel,
    src: &ImageView<'_, f32>,
    dst: &mut ImageViewMut<'_, f32>,
    strips: &mut Vec<Strip<f32, f32>>,
    (cx, cy): (&[f32], &[f32]),
    border: Border,
) {
    let (w, h) = src.size();
    let band_rows = if w * h < PAR_MIN_PIXELS {
        h
    } else {
        parallel::band_rows_for(h, 2 * cy.len())
    };
    let bands = h.div_ceil(band_rows);
    if strips.len() < bands {
        strips.resize_with(bands, Strip::default);
    }
    // The tile's span of the `ky + 7` source rows a step reads stays within the budget.
    let tile = vertical_first_tile_width(w, cy.len());
    for strip in strips.iter_mut() {
        strip.fit(tile + cx.len() - 1, 0, 8, cy.len() + 7);
        // The eight-row horizontal pass's transposed columns (and room to align them).
        let columns = (tile + cx.len()).next_multiple_of(8) * 8 + 8;
        strip.columns.resize(columns.max(strip.columns.len()), 0.0);
    }
    parallel::for_each_band_with_scratch(dst.reborrow(), band_rows, strips, &|y0, band, strip| {
        vertical_first_band(level, src, y0, band, strip, tile, (cx, cy), border)
    });
}

/// Output rows `y0..y0 + band.height()` of [`vertical_first_f32`], tile by tile.
#[allow(clippy::too_many_arguments)]
fn vertical_first_band(
    level: SimdLevel,
    src: &ImageView<'_, f32>,
    y0: usize,
    mut band: ImageViewMut<'_, f32>,
    strip: &mut Strip<f32, f32>,
    tile: usize,
    (cx, cy): (&[f32], &[f32]),
    border: Border,
) {
    let (w, h) = src.size();
    let (rx, ry) = (cx.len() / 2, cy.len() / 2);
    let (pixels, stride) = (src.as_slice(), src.stride());
    let row_len = strip.row_len;
    let Strip {
        ring,
        ring_start,
        offsets,
        columns,
        ..
    } = strip;
    let sums = &mut ring[*ring_start..][..8 * row_len];
    // 32-byte aligned, so the transposed pass's column loads never straddle two lines
    // (`align_offset` may decline: then unaligned, slower, never wrong).
    let skip = columns.as_ptr().align_offset(32);
    let columns = &mut columns[if skip < 8 { skip } else { 0 }..];
    let height = band.height();
    for x0 in (0..w).step_by(tile) {
        let tw = tile.min(w - x0);
        // Sums[m][p] belongs to column x0 − rx + p; the vertical pass makes the columns
        // xa..xb inside the image, the border fills the rest.
        let first = x0 as isize - rx as isize;
        let (xa, xb) = (x0.saturating_sub(rx), (x0 + tw + rx).min(w));
        let (lead, made, len) = (xa + rx - x0, xb - xa, tw + 2 * rx);
        let mut k = 0;
        while k < height {
            let rows = match height - k {
                8.. => 8,
                4..=7 => 4,
                2 | 3 => 2,
                _ => 1,
            };
            let taps = cy.len() + rows - 1;
            // Where the step's `j`-th source row starts (the tile's first column).
            let offset_of = |j: usize| {
                let virtual_row = (y0 + k + j) as isize - ry as isize;
                let y = border
                    .map(virtual_row, h)
                    .expect("the border maps rows inside");
                y * stride + xa
            };
            for (j, off) in offsets[..taps].iter_mut().enumerate() {
                *off = offset_of(j);
            }
            // The rows the next step adds (when it is an eight-row step of this band).
            let mut ahead = [0usize; 8];
            let ahead = if rows == 8 && k + 16 <= height {
                for (j, off) in ahead.iter_mut().enumerate() {
                    *off = offset_of(taps + j);
                }
                &ahead[..]
            } else {
                &[]
            };
            let offsets = &offsets[..taps];
            {
                let mut parts = sums.chunks_exact_mut(row_len);
                let mut next = || &mut parts.next().expect("eight rows")[lead..lead + made];
                let out: [&mut [f32]; 8] = std::array::from_fn(|_| next());
                match out {
                    out if rows == 8 => {
                        dispatch!(level => v_row_f32_8(pixels, offsets, ahead, cy, out))
                    }
                    [a, b, c, d, ..] if rows == 4 => {
                        dispatch!(level => v_row_f32_4(pixels, offsets, cy, [a, b, c, d]))
                    }
                    [a, b, ..] if rows == 2 => {
                        dispatch!(level => v_row_f32_2(pixels, offsets, cy, a, b))
                    }
                    [a, ..] => dispatch!(level => v_row_f32(pixels, offsets, cy, a)),
                }
            }
            for row in sums.chunks_exact_mut(row_len).take(rows) {
                for p in (0..lead).chain(lead + made..len) {
                    let x = border
                        .map(first + p as isize, w)
                        .expect("the border maps columns inside");
                    row[p] = row[(x as isize - first) as usize];
                }
            }
            let mut padded = sums.chunks_exact(row_len).map(|row| &row[..len]);
            if rows == 8 {
                let padded: [&[f32]; 8] = std::array::from_fn(|_| padded.next().expect("8 rows"));
                let mut step = band
                    .sub_view_mut(x0, k, tw, 8)
                    .expect("the step's rows lie in the band");
                let mut outputs = step.rows_mut();
                let out = std::array::from_fn(|_| outputs.next().expect("8 rows"));
                dispatch!(level => h_rows_f32_8(padded, cx, out, columns));
            } else {
                for (m, row) in padded.take(rows).enumerate() {
                    dispatch!(level => h_row_f32(row, cx, &mut band.row_mut(k + m)[x0..x0 + tw]));
                }
            }
            k += rows;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_u8;

    /// `N` output rows, as the multi-row passes take them.
    fn rows_mut<T, const N: usize>(rows: &mut [Vec<T>]) -> [&mut [T]; N] {
        let rows: Vec<&mut [T]> = rows.iter_mut().map(Vec::as_mut_slice).collect();
        rows.try_into().ok().expect("N rows")
    }

    /// Four output rows, as the four-row passes take them.
    fn four_mut<T>(rows: &mut [Vec<T>]) -> [&mut [T]; 4] {
        rows_mut(rows)
    }

    /// A ring of `rows` random rows of `len` (plus slack), and offsets of `2r + 2` rows
    /// in scrambled ring order, as the band driver produces.
    fn ring_and_offsets<T: Copy>(
        rows: usize,
        len: usize,
        of: impl Fn(u8) -> T,
    ) -> (Vec<T>, Vec<usize>) {
        let row_len = len + 7;
        let bytes = random_u8(row_len, rows, (rows * 131 + len) as u64).unwrap();
        let ring = bytes.as_view().rows().flatten().map(|&b| of(b)).collect();
        let offsets = (0..rows).map(|j| (j * 5 + 3) % rows * row_len).collect();
        (ring, offsets)
    }

    /// Every SIMD level's horizontal f32 pass gives the bits of the fused formula, in
    /// the scalar reference's order, also where the padded row ends right after the
    /// last window (no room for a whole extra vector of loads).
    #[test]
    fn horizontal_f32_passes_give_the_fused_bits_on_every_simd_level() {
        for level in SimdLevel::supported() {
            if level == SimdLevel::Scalar {
                continue;
            }
            for r in [0, 1, 2, 7, 8, 9, 15, 16] {
                let c: Vec<f32> = (0..2 * r + 1)
                    .map(|j| 1.0 / (1.0 + (j as f32 - r as f32).abs()))
                    .collect();
                for n in [1, 15, 16, 17, 31, 32, 33, 64, 95, 100] {
                    for slack in [0, 1, 40] {
                        let bytes = random_u8(n + 2 * r + slack, 1, (n * 7 + r) as u64).unwrap();
                        let p: Vec<f32> = bytes
                            .as_view()
                            .row(0)
                            .iter()
                            .map(|&b| f32::from(b) / 3.0)
                            .collect();
                        let mut got = vec![0f32; n];
                        dispatch!(level => h_row_f32(&p, &c, &mut got));
                        let mut tail = vec![0f32; n];
                        scalar::h_row_f32(&p, &c, &mut tail);
                        for (i, g) in got.iter().enumerate() {
                            let mut fused = c[r] * p[i + r];
                            for j in 0..r {
                                fused = c[j].mul_add(p[i + j] + p[i + 2 * r - j], fused);
                            }
                            assert!(
                                g.to_bits() == fused.to_bits() || g.to_bits() == tail[i].to_bits(),
                                "{level} r{r} n{n} +{slack} #{i}: {g} vs {fused}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The eight-row horizontal pass (transposed on AVX-512 for radii 5 to 15) gives
    /// every row the bits of the one-row pass on every level: widths around the 8- and
    /// 16-column blocks, every radius up to one beyond the transposed range (each its
    /// own unrolled pass; below and above it the per-row fallback), rows ending right
    /// after the last window or with slack.
    #[test]
    fn eight_row_horizontal_passes_give_the_one_row_bits_on_every_level() {
        for level in SimdLevel::supported() {
            // One dirty buffer for every case: a read of a column not written shows.
            let mut columns = vec![f32::NAN; (1664usize + 33).next_multiple_of(8) * 8];
            for r in 0..=16 {
                let c: Vec<f32> = (0..2 * r + 1)
                    .map(|j| 1.0 / (1.0 + (j as f32 - r as f32).abs()))
                    .collect();
                for n in [1, 7, 8, 9, 15, 16, 17, 31, 33, 48, 100, 1664] {
                    for slack in [0, 5] {
                        let len = n + 2 * r + slack;
                        let bytes = random_u8(len, 8, (n * 11 + r + slack) as u64).unwrap();
                        let rows: Vec<Vec<f32>> = bytes
                            .as_view()
                            .rows()
                            .map(|row| row.iter().map(|&b| f32::from(b) / 3.0).collect())
                            .collect();
                        let mut want = vec![vec![0f32; n]; 8];
                        for (p, o) in rows.iter().zip(&mut want) {
                            dispatch!(level => h_row_f32(p, &c, o));
                        }
                        let mut got = vec![vec![f32::NAN; n]; 8];
                        let p: [&[f32]; 8] = std::array::from_fn(|k| rows[k].as_slice());
                        dispatch!(level => h_rows_f32_8(p, &c, rows_mut(&mut got), &mut columns));
                        let bits = |v: &[Vec<f32>]| -> Vec<Vec<u32>> {
                            v.iter()
                                .map(|r| r.iter().map(|x| x.to_bits()).collect())
                                .collect()
                        };
                        assert_eq!(bits(&got), bits(&want), "{level} r{r} n{n} +{slack}");
                    }
                }
            }
        }
    }

    #[test]
    fn four_row_vertical_passes_give_the_one_row_bits_on_every_level() {
        for level in SimdLevel::supported() {
            for r in [0, 1, 2, 7, 15, 16] {
                for len in [1, 15, 16, 17, 33, 100] {
                    let rows = 2 * r + 4;
                    let (ring, offsets) = ring_and_offsets(rows, len, |b| f32::from(b) / 7.0);
                    let c: Vec<f32> = (0..2 * r + 1)
                        .map(|j| 1.0 / (1.0 + (j as f32 - r as f32).abs()))
                        .collect();
                    let mut four = vec![vec![0f32; len]; 4];
                    dispatch!(level => v_row_f32_4(&ring, &offsets, &c, four_mut(&mut four)));
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    for (m, row) in four.iter().enumerate() {
                        let mut one = vec![0f32; len];
                        dispatch!(level => v_row_f32(&ring, &offsets[m..m + 2 * r + 1], &c, &mut one));
                        assert_eq!(bits(row), bits(&one), "{level} r{r} len{len} row {m}");
                    }
                    // Eight rows from 2r + 8.
                    let (ring8, offsets8) = ring_and_offsets(rows + 4, len, |b| f32::from(b) / 7.0);
                    let mut eight = vec![vec![0f32; len]; 8];
                    // The hint's rows (here the first two) change no result.
                    dispatch!(level => v_row_f32_8(&ring8, &offsets8, &offsets8[..2], &c, rows_mut(&mut eight)));
                    for (m, row) in eight.iter().enumerate() {
                        let mut one = vec![0f32; len];
                        dispatch!(level => v_row_f32(&ring8, &offsets8[m..m + 2 * r + 1], &c, &mut one));
                        assert_eq!(bits(row), bits(&one), "{level} r{r} len{len} row {m} of 8");
                    }
                    if r <= 15 {
                        let (ring, offsets) = ring_and_offsets(rows, len, |b| i16::from(b) << 6);
                        let t: Vec<i16> = (0..=r).map(|d| (4000 - 200 * d) as i16).collect();
                        let mut four = vec![vec![0u8; len]; 4];
                        dispatch!(level => v_row_u8_fast4(&ring, &offsets, &t, four_mut(&mut four)));
                        for (m, row) in four.iter().enumerate() {
                            let mut one = vec![0u8; len];
                            dispatch!(level => v_row_u8_fast(&ring, &offsets[m..m + 2 * r + 1], &t, &mut one));
                            assert_eq!(row, &one, "u8 {level} r{r} len{len} row {m}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn two_row_vertical_passes_give_the_one_row_bits_on_every_level() {
        for level in SimdLevel::supported() {
            for r in [0, 1, 3, 7, 15] {
                for len in [1, 7, 15, 31, 33, 64, 65, 100, 131] {
                    let rows = 2 * r + 2;
                    let (ring, offsets) = ring_and_offsets(rows, len, |b| i16::from(b) << 6);
                    let t: Vec<i16> = (0..=r).map(|d| (4000 - 200 * d) as i16).collect();
                    let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
                    dispatch!(level => v_row_u8_fast2(&ring, &offsets, &t, &mut a, &mut b));
                    let (mut a1, mut b1) = (vec![0u8; len], vec![0u8; len]);
                    dispatch!(level => v_row_u8_fast(&ring, &offsets[..rows - 1], &t, &mut a1));
                    dispatch!(level => v_row_u8_fast(&ring, &offsets[1..], &t, &mut b1));
                    assert_eq!((&a, &b), (&a1, &b1), "u8 {level} r{r} len{len}");

                    let (ring, offsets) = ring_and_offsets(rows, len, |b| f32::from(b) / 7.0);
                    let c: Vec<f32> = (0..2 * r + 1)
                        .map(|j| 1.0 / (1.0 + (j as f32 - r as f32).abs()))
                        .collect();
                    let (mut a, mut b) = (vec![0f32; len], vec![0f32; len]);
                    dispatch!(level => v_row_f32_2(&ring, &offsets, &c, &mut a, &mut b));
                    let (mut a1, mut b1) = (vec![0f32; len], vec![0f32; len]);
                    dispatch!(level => v_row_f32(&ring, &offsets[..rows - 1], &c, &mut a1));
                    dispatch!(level => v_row_f32(&ring, &offsets[1..], &c, &mut b1));
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        (bits(&a), bits(&b)),
                        (bits(&a1), bits(&b1)),
                        "f32 {level} r{r} len{len}"
                    );
                }
            }
        }
    }

    /// A ring row too short for the row length is refused on every level by every
    /// vertical pass (a panic, never a read past the ring), also at lengths where the
    /// vector loop covers the whole row and no scalar tail would notice.
    #[test]
    fn vertical_passes_refuse_a_ring_row_too_short() {
        use std::panic::{AssertUnwindSafe, catch_unwind};
        let refuses = |f: &mut dyn FnMut()| catch_unwind(AssertUnwindSafe(f)).is_err();
        for level in SimdLevel::supported() {
            for len in [64, 128] {
                for r in [1, 3, 16] {
                    let rows = 2 * r + 2;
                    // The last row starts one element too late to hold `len` values.
                    let ring_len = rows * len;
                    let mut offsets: Vec<usize> = (0..rows).map(|j| j * len).collect();
                    *offsets.last_mut().unwrap() += 1;
                    let (one, two) = (&offsets[1..], &offsets[..]);
                    let ring_f32 = vec![1.0f32; ring_len];
                    let c = vec![0.1f32; 2 * r + 1];
                    let (mut a, mut b) = (vec![0f32; len], vec![0f32; len]);
                    let what = format!("{level} r{r} len{len}");
                    assert!(
                        refuses(&mut || dispatch!(level => v_row_f32(&ring_f32, one, &c, &mut a))),
                        "v_row_f32 {what}"
                    );
                    assert!(
                        refuses(
                            &mut || dispatch!(level => v_row_f32_2(&ring_f32, two, &c, &mut a, &mut b))
                        ),
                        "v_row_f32_2 {what}"
                    );
                    // Four rows: 2r + 4 offsets, the last one element short.
                    let mut offsets4: Vec<usize> = (0..rows + 2).map(|j| j * len).collect();
                    *offsets4.last_mut().unwrap() += 1;
                    let ring4 = vec![1.0f32; (rows + 2) * len];
                    let mut four = vec![vec![0f32; len]; 4];
                    assert!(
                        refuses(&mut || {
                            dispatch!(level => v_row_f32_4(&ring4, &offsets4, &c, four_mut(&mut four)))
                        }),
                        "v_row_f32_4 {what}"
                    );
                    // Eight rows: 2r + 8 offsets, the last one element short.
                    let mut offsets8: Vec<usize> = (0..rows + 6).map(|j| j * len).collect();
                    *offsets8.last_mut().unwrap() += 1;
                    let ring8 = vec![1.0f32; (rows + 6) * len];
                    let mut eight = vec![vec![0f32; len]; 8];
                    assert!(
                        refuses(&mut || {
                            dispatch!(level => v_row_f32_8(&ring8, &offsets8, &[], &c, rows_mut(&mut eight)))
                        }),
                        "v_row_f32_8 {what}"
                    );
                    let ring_i16 = vec![64i16; ring_len];
                    let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
                    if r <= 15 {
                        let t: Vec<i16> = (0..=r).map(|d| 1000 - 10 * d as i16).collect();
                        assert!(
                            refuses(
                                &mut || dispatch!(level => v_row_u8_fast(&ring_i16, one, &t, &mut a))
                            ),
                            "v_row_u8_fast {what}"
                        );
                        assert!(
                            refuses(
                                &mut || dispatch!(level => v_row_u8_fast2(&ring_i16, two, &t, &mut a, &mut b))
                            ),
                            "v_row_u8_fast2 {what}"
                        );
                        let ring4 = vec![64i16; (rows + 2) * len];
                        let mut four = vec![vec![0u8; len]; 4];
                        assert!(
                            refuses(&mut || {
                                dispatch!(level => v_row_u8_fast4(&ring4, &offsets4, &t, four_mut(&mut four)))
                            }),
                            "v_row_u8_fast4 {what}"
                        );
                    }
                    // The exact pass takes an even number of rows (pairs of taps).
                    let q = vec![100i16; 2 * r + 2];
                    assert!(
                        refuses(&mut || dispatch!(level => v_row_u8(&ring_i16, two, &q, &mut a))),
                        "v_row_u8 {what}"
                    );
                }
            }
        }
    }
}
