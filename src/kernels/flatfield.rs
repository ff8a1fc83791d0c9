//! Flat-field correction: `(raw − dark) / (flat − dark)`, calibrated once from dark and
//! flat frames (each the mean of any number of captures), applied in one fused pass.
//!
//! The lesson of the chapter's inspection line is to count bytes: a float loop with f32
//! gain and offset maps moves 13 bytes per pixel (1 raw + 4 + 4 maps + 4 out). Here the
//! maps are compact: the dark level in Q8 (u16, 1/256 of a gray level) and a relative
//! gain `g = mean_range / range` in Q12 (u16, gains up to 16, precision 2.4e-4): 9 bytes
//! per pixel for f32 output, 6 for u8 output. Both maps are exact to well under the
//! 8-bit raw data's own quantization. Large f32 outputs are written with streaming
//! stores on x86 (see [`STREAM_MIN_BYTES`]), so the output costs 4 bytes per pixel of
//! memory traffic instead of 8 (no read-for-ownership).
//!
//! Outputs: f32 is the textbook ratio (1.0 where raw equals flat; negative below dark);
//! u8 is `raw − dark` scaled by the gain, i.e. the picture the sensor would give if
//! every pixel had the mean response, rounded and saturated. Pixels whose flat is not
//! above their dark, or whose response is below 1/16 of the mean (beyond the gain map's
//! range), count as dead: gain 0, they read 0. Dark levels are clamped to 0..=255 (the
//! raw data's range) before anything is derived from them.

use crate::image::{Image, ImageView, ImageViewMut, Pixel, check_same_size};
use crate::kernels::parallel;
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Fixed-point fraction bits of the dark map.
const DARK_BITS: u32 = 8;
/// Fixed-point fraction bits of the gain map.
const GAIN_BITS: u32 = 12;

autovectorized! {
    fn correct_f32_row(raw: &[u8], dark: &[u16], gain: &[u16], k: f32, out: &mut [f32]) {
        let n = out.len();
        let (raw, dark, gain) = (&raw[..n], &dark[..n], &gain[..n]);
        for i in 0..n {
            let d = (i32::from(raw[i]) << DARK_BITS) - i32::from(dark[i]);
            out[i] = d as f32 * f32::from(gain[i]) * k;
        }
    }
}

autovectorized! {
    fn correct_u8_row(raw: &[u8], dark: &[u16], gain: &[u16], out: &mut [u8]) {
        let n = out.len();
        let (raw, dark, gain) = (&raw[..n], &dark[..n], &gain[..n]);
        const ROUND: u32 = 1 << (DARK_BITS + GAIN_BITS - 1);
        for i in 0..n {
            let d = ((i32::from(raw[i]) << DARK_BITS) - i32::from(dark[i])).max(0) as u32;
            // d < 2^16 and gain < 2^16: the product fits u32.
            let v = (d * u32::from(gain[i]) + ROUND) >> (DARK_BITS + GAIN_BITS);
            out[i] = v.min(255) as u8;
        }
    }
}

/// Output frames at least this large are written with streaming stores (see
/// [`crate::kernels::STREAM_MIN_BYTES`]); here they would also push the calibration
/// maps out of the cache.
pub use crate::kernels::STREAM_MIN_BYTES;

/// Non-temporal f32 rows, x86 only: the same arithmetic in the same order as
/// `correct_f32_row` (so results are bit-identical), with aligned streaming stores.
#[cfg(target_arch = "x86_64")]
mod streaming {
    use std::arch::x86_64::*;

    use super::DARK_BITS;

    /// Pixels `i` of `out` computed one at a time (head and tail of a row).
    #[inline(always)]
    fn one(raw: &[u8], dark: &[u16], gain: &[u16], k: f32, out: &mut [f32], i: usize) {
        let d = (i32::from(raw[i]) << DARK_BITS) - i32::from(dark[i]);
        out[i] = d as f32 * f32::from(gain[i]) * k;
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn row_avx512(raw: &[u8], dark: &[u16], gain: &[u16], k: f32, out: &mut [f32]) {
        let n = out.len();
        let (raw, dark, gain) = (&raw[..n], &dark[..n], &gain[..n]);
        let head = out.as_ptr().align_offset(64).min(n);
        for i in 0..head {
            one(raw, dark, gain, k, out, i);
        }
        let kv = _mm512_set1_ps(k);
        let mut i = head;
        while i + 16 <= n {
            // SAFETY: i + 16 <= n bounds every load (16 u8, 16 u16, 16 u16) and the
            // store; `out[i]` is 64-byte aligned (head above, then steps of 64 bytes).
            unsafe {
                let r = _mm512_cvtepu8_epi32(_mm_loadu_si128(raw.as_ptr().add(i).cast()));
                let d = _mm512_cvtepu16_epi32(_mm256_loadu_si256(dark.as_ptr().add(i).cast()));
                let g = _mm512_cvtepu16_epi32(_mm256_loadu_si256(gain.as_ptr().add(i).cast()));
                let diff = _mm512_sub_epi32(_mm512_slli_epi32::<{ DARK_BITS }>(r), d);
                let v = _mm512_mul_ps(
                    _mm512_mul_ps(_mm512_cvtepi32_ps(diff), _mm512_cvtepi32_ps(g)),
                    kv,
                );
                _mm512_stream_ps(out.as_mut_ptr().add(i), v);
            }
            i += 16;
        }
        for i in i..n {
            one(raw, dark, gain, k, out, i);
        }
        // Streaming stores are weakly ordered: make them visible before anyone reads.
        _mm_sfence();
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn row_avx2(raw: &[u8], dark: &[u16], gain: &[u16], k: f32, out: &mut [f32]) {
        let n = out.len();
        let (raw, dark, gain) = (&raw[..n], &dark[..n], &gain[..n]);
        let head = out.as_ptr().align_offset(32).min(n);
        for i in 0..head {
            one(raw, dark, gain, k, out, i);
        }
        let kv = _mm256_set1_ps(k);
        let mut i = head;
        while i + 8 <= n {
            // SAFETY: i + 8 <= n bounds every load (8 u8, 8 u16, 8 u16) and the store;
            // `out[i]` is 32-byte aligned (head above, then steps of 32 bytes).
            unsafe {
                let r = _mm256_cvtepu8_epi32(_mm_loadl_epi64(raw.as_ptr().add(i).cast()));
                let d = _mm256_cvtepu16_epi32(_mm_loadu_si128(dark.as_ptr().add(i).cast()));
                let g = _mm256_cvtepu16_epi32(_mm_loadu_si128(gain.as_ptr().add(i).cast()));
                let diff = _mm256_sub_epi32(_mm256_slli_epi32::<{ DARK_BITS as i32 }>(r), d);
                let v = _mm256_mul_ps(
                    _mm256_mul_ps(_mm256_cvtepi32_ps(diff), _mm256_cvtepi32_ps(g)),
                    kv,
                );
                _mm256_stream_ps(out.as_mut_ptr().add(i), v);
            }
            i += 8;
        }
        for i in i..n {
            one(raw, dark, gain, k, out, i);
        }
        _mm_sfence();
    }
}

/// `correct_f32_row` with streaming stores where the level has them (x86), plain
/// stores elsewhere (NEON, scalar).
fn correct_f32_row_streaming(
    level: SimdLevel,
    raw: &[u8],
    dark: &[u16],
    gain: &[u16],
    k: f32,
    out: &mut [f32],
) {
    match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
            // SAFETY: the guard just checked that the CPU has AVX-512 F and BW.
            unsafe { streaming::row_avx512(raw, dark, gain, k, out) }
        }
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 if level.is_supported() => {
            // SAFETY: the guard just checked that the CPU has AVX2.
            unsafe { streaming::row_avx2(raw, dark, gain, k, out) }
        }
        _ => correct_f32_row(level, raw, dark, gain, k, out),
    }
}

/// How the f32 output is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stores {
    /// Streaming stores for outputs of at least [`STREAM_MIN_BYTES`], cached below.
    Auto,
    /// Ordinary (cached) stores.
    Cached,
    /// Non-temporal stores (x86 AVX2/AVX-512; ordinary stores elsewhere).
    Streaming,
}

/// One corrected row: `(raw, dark map, gain map, out)`.
type RowFn<'a, D> = dyn Fn(&[u8], &[u16], &[u16], &mut [D]) + Sync + 'a;

/// A calibration: per-pixel dark level and relative gain, in compact fixed point.
#[derive(Clone, Debug)]
pub struct FlatField {
    dark: Image<u16>,
    gain: Image<u16>,
    /// Mean of flat − dark over the responding pixels.
    mean_range: f32,
}

fn mean_of(frames: &[ImageView<'_, u8>], what: &'static str) -> Result<Image<f32>> {
    let first = frames
        .first()
        .ok_or_else(|| Error::bad_param(what, "needs at least one frame"))?;
    let (w, h) = first.size();
    let mut sum = Image::<f32>::new(w, h)?;
    for f in frames {
        check_same_size(what, (w, h), f.size())?;
        for (s, r) in sum.as_view_mut().rows_mut().zip(f.rows()) {
            for (s, &v) in s.iter_mut().zip(r) {
                *s += f32::from(v);
            }
        }
    }
    let inv = 1.0 / frames.len() as f32;
    for row in sum.as_view_mut().rows_mut() {
        row.iter_mut().for_each(|v| *v *= inv);
    }
    Ok(sum)
}

impl FlatField {
    /// Calibrates from dark captures (lens covered) and flat captures (a uniform bright
    /// target), each averaged; all frames must have one size.
    pub fn from_frames(dark: &[ImageView<'_, u8>], flat: &[ImageView<'_, u8>]) -> Result<Self> {
        let dark = mean_of(dark, "dark frames")?;
        let flat = mean_of(flat, "flat frames")?;
        Self::from_means(&dark.as_view(), &flat.as_view())
    }

    /// [`Self::from_frames`] for owned images.
    pub fn from_images(dark: &[Image<u8>], flat: &[Image<u8>]) -> Result<Self> {
        let dark: Vec<ImageView<'_, u8>> = dark.iter().map(Image::as_view).collect();
        let flat: Vec<ImageView<'_, u8>> = flat.iter().map(Image::as_view).collect();
        Self::from_frames(&dark, &flat)
    }

    /// Calibrates from mean dark and flat levels (gray levels, 0..=255).
    pub fn from_means(dark: &ImageView<'_, f32>, flat: &ImageView<'_, f32>) -> Result<Self> {
        check_same_size("flat frame", dark.size(), flat.size())?;
        let (w, h) = dark.size();
        let (mut total, mut count) = (0f64, 0u64);
        for (d, f) in dark.rows().zip(flat.rows()) {
            for (&d, &f) in d.iter().zip(f) {
                if !(d.is_finite() && f.is_finite()) {
                    return Err(Error::bad_param(
                        "calibration",
                        "dark and flat levels must be finite",
                    ));
                }
                let d = d.clamp(0.0, 255.0);
                if f > d {
                    total += f64::from(f - d);
                    count += 1;
                }
            }
        }
        if count == 0 {
            return Err(Error::bad_param(
                "calibration",
                "no pixel of the flat is brighter than the dark",
            ));
        }
        let mean_range = (total / count as f64) as f32;
        let mut dark_q = Image::<u16>::new(w, h)?;
        let mut gain_q = Image::<u16>::new(w, h)?;
        for y in 0..h {
            let (d, f) = (dark.row(y), flat.row(y));
            for x in 0..w {
                let dark = d[x].clamp(0.0, 255.0);
                dark_q.row_mut(y)[x] = (dark * (1 << DARK_BITS) as f32).round() as u16;
                let range = f[x] - dark;
                let gain = (mean_range / range * (1 << GAIN_BITS) as f32).round();
                // Dead: no response, or too weak for the gain map (see the module docs).
                gain_q.row_mut(y)[x] = if range > 0.0 && gain <= f32::from(u16::MAX) {
                    gain as u16
                } else {
                    0
                };
            }
        }
        Ok(FlatField {
            dark: dark_q,
            gain: gain_q,
            mean_range,
        })
    }

    /// Calibration size.
    pub fn size(&self) -> (usize, usize) {
        self.dark.size()
    }

    /// Mean response (flat − dark) over responding pixels, in gray levels.
    pub fn mean_range(&self) -> f32 {
        self.mean_range
    }

    /// `(raw − dark) / (flat − dark)` as f32.
    pub fn apply_f32(
        &self,
        raw: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.apply_f32_at(simd::level()?, raw, dst)
    }

    pub fn apply_f32_at(
        &self,
        level: SimdLevel,
        raw: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        self.apply_f32_with(level, Stores::Auto, raw, dst)
    }

    /// [`Self::apply_f32_at`] with the kind of stores chosen by the caller (results are
    /// identical; only memory traffic differs).
    pub fn apply_f32_with(
        &self,
        level: SimdLevel,
        stores: Stores,
        raw: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        let k = 1.0 / ((1u32 << (DARK_BITS + GAIN_BITS)) as f32 * self.mean_range);
        let bytes = dst.width() * dst.height() * std::mem::size_of::<f32>();
        let stream = match stores {
            Stores::Auto => bytes >= STREAM_MIN_BYTES,
            Stores::Cached => false,
            Stores::Streaming => true,
        };
        if stream {
            self.rows(level, raw, dst, &|raw, dark, gain, out| {
                correct_f32_row_streaming(level, raw, dark, gain, k, out)
            })
        } else {
            self.rows(level, raw, dst, &|raw, dark, gain, out| {
                correct_f32_row(level, raw, dark, gain, k, out)
            })
        }
    }

    /// Checks sizes and runs `row(raw, dark, gain, out)` over all rows, bands in parallel.
    fn rows<D: Pixel>(
        &self,
        level: SimdLevel,
        raw: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, D>,
        row: &RowFn<'_, D>,
    ) -> Result<()> {
        level.check()?;
        check_same_size(
            "raw frame (against the calibration)",
            self.size(),
            raw.size(),
        )?;
        check_same_size("output", raw.size(), dst.size())?;
        let (dark, gain) = (self.dark.as_view(), self.gain.as_view());
        parallel::for_each_band_at(*raw, dst.reborrow(), 1 << 16, &|y0, s, mut d| {
            for (i, (s, d)) in s.rows().zip(d.rows_mut()).enumerate() {
                row(s, dark.row(y0 + i), gain.row(y0 + i), d);
            }
        });
        Ok(())
    }

    /// `raw − dark` scaled to the mean response, rounded and saturated to u8.
    pub fn apply_u8(&self, raw: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>) -> Result<()> {
        self.apply_u8_at(simd::level()?, raw, dst)
    }

    pub fn apply_u8_at(
        &self,
        level: SimdLevel,
        raw: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        self.rows(level, raw, dst, &|raw, dark, gain, out| {
            correct_u8_row(level, raw, dark, gain, out)
        })
    }

    /// A synthetic calibration (dark 8..24, a vignetted flat falling from 240 to 120
    /// towards the corners), for benchmarks and demos without a camera.
    pub fn synthetic(width: usize, height: usize) -> Result<Self> {
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let r2 = cx * cx + cy * cy;
        let dark = Image::from_fn(width, height, |x, y| 8.0 + ((x * 7 + y * 13) % 17) as f32)?;
        let flat = Image::from_fn(width, height, |x, y| {
            let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
            240.0 - 120.0 * d2 / r2.max(1.0)
        })?;
        Self::from_means(&dark.as_view(), &flat.as_view())
    }
}
