//! The constant-time path for large kernels: three successive box filters, whose
//! convolution approaches a Gaussian (central limit theorem). Box widths follow Kovesi
//! ("Fast almost-Gaussian filtering", 2010): the two odd widths around
//! `sqrt(12σ²/3 + 1)`, mixed so the cascade's variance equals σ² as closely as odd
//! widths allow. Each box costs O(1) per pixel (running sums), so the blur's cost does
//! not grow with sigma.
//!
//! Accuracy against the exact Gaussian of the same sigma is measured by the tests and
//! stated in the README: the cascade is a piecewise quadratic, not a Gaussian, so this
//! path trades a little accuracy (about 1% of the kernel's peak) for speed.
//!
//! u8 images whose boxes are at most [`INT_MAX_WIDTH`] wide run in integers (exact u32
//! window sums, Q8 u16 intermediates; see `IntCascade`); larger sigmas and f32 images
//! run f32 boxes with f64 sums.

use crate::Result;
use crate::image::{Image, ImageView, ImageViewMut};
use crate::kernels::border::Border;
use crate::kernels::boxfilter::{BoxFilter, round_small};
use crate::kernels::{colsums, parallel};
use crate::simd::{SimdLevel, autovectorized};

/// Boxes in the cascade.
pub const BOXES: usize = 3;

/// Odd box widths whose cascade has a variance as close to `sigma²` as possible.
pub fn box_widths(sigma: f64) -> [usize; BOXES] {
    let n = BOXES as f64;
    let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut wl = ideal.floor() as i64;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wl = wl.max(1);
    let wu = wl + 2;
    let (wlf, s2) = (wl as f64, sigma * sigma);
    let m = ((12.0 * s2 - n * wlf * wlf - 4.0 * n * wlf - 3.0 * n) / (-4.0 * wlf - 4.0)).round();
    let m = m.clamp(0.0, n) as usize;
    std::array::from_fn(|i| if i < m { wl as usize } else { wu as usize })
}

/// Widest box the integer u8 cascade takes: a box of at most 256×256 pixels keeps the
/// sums of Q8 intermediates (at most 65280 each) within u32.
pub const INT_MAX_WIDTH: usize = 256;

autovectorized! {
    /// `out[i] = round(sums[i] · scale)` as u16 (half to even, through the f64 mantissa).
    fn scale_to_u16(sums: &[u32], scale: f32, out: &mut [u16]) {
        for (o, &s) in out.iter_mut().zip(sums) {
            *o = round_small(s as f32 * scale).clamp(0, 65535) as u16;
        }
    }
}
autovectorized! {
    /// `out[i] = round(sums[i] · scale)` as u8.
    fn scale_to_u8(sums: &[u32], scale: f32, out: &mut [u8]) {
        for (o, &s) in out.iter_mut().zip(sums) {
            *o = round_small(s as f32 * scale).clamp(0, 255) as u8;
        }
    }
}

/// Row types an integer stage reads.
trait StageInput: crate::image::Pixel {
    fn col_add(level: SimdLevel, col: &mut [u32], row: &[Self]);
    fn col_slide(level: SimdLevel, col: &mut [u32], add: &[Self], sub: &[Self]);
}
impl StageInput for u8 {
    fn col_add(level: SimdLevel, col: &mut [u32], row: &[u8]) {
        colsums::add_u8_u32(level, col, row)
    }
    fn col_slide(level: SimdLevel, col: &mut [u32], add: &[u8], sub: &[u8]) {
        colsums::slide_u8_u32(level, col, add, sub)
    }
}
impl StageInput for u16 {
    fn col_add(level: SimdLevel, col: &mut [u32], row: &[u16]) {
        colsums::add_u16_u32(level, col, row)
    }
    fn col_slide(level: SimdLevel, col: &mut [u32], add: &[u16], sub: &[u16]) {
        colsums::slide_u16_u32(level, col, add, sub)
    }
}

autovectorized! {
    /// `out[i] = cols[i + wx] − cols[i]` (wrapping): what the running sum gains at
    /// each step.
    fn window_steps(cols: &[u32], wx: usize, out: &mut [u32]) {
        let n = out.len();
        let (add, sub) = (&cols[wx..wx + n], &cols[..n]);
        for i in 0..n {
            out[i] = add[i].wrapping_sub(sub[i]);
        }
    }
}

/// AVX-512 running sums: sixteen steps at a time, prefix-summed in the register (four
/// lane shifts and adds) and carried from block to block by one add.
#[cfg(target_arch = "x86_64")]
mod scan_avx512 {
    use std::arch::x86_64::*;

    /// Fills `sums[1 ..= n]` from `sums[0]` (`sums[x] = sums[x − 1] + cols[x + wx − 1] −
    /// cols[x − 1]`, wrapping) for the largest `n` that is a multiple of 16 below
    /// `sums.len()`, and returns `n`.
    #[target_feature(enable = "avx512f")]
    pub(super) fn running(cols: &[u32], wx: usize, sums: &mut [u32]) -> usize {
        let w = sums.len();
        assert!(wx >= 1 && cols.len() + 1 >= w + wx, "column row too short");
        let zero = _mm512_setzero_si512();
        let last = _mm512_set1_epi32(15);
        let mut carry = _mm512_set1_epi32(sums[0] as i32);
        let mut x = 1;
        while x + 16 <= w {
            // SAFETY: the loads read cols[x − 1 .. x + 15] and cols[x + wx − 1 .. x + wx + 15],
            // below x + wx + 15 <= w + wx − 1 <= cols.len(); the store writes
            // sums[x .. x + 16] with x + 16 <= w.
            unsafe {
                let add = _mm512_loadu_si512(cols.as_ptr().add(x + wx - 1).cast());
                let sub = _mm512_loadu_si512(cols.as_ptr().add(x - 1).cast());
                let mut v = _mm512_sub_epi32(add, sub);
                v = _mm512_add_epi32(v, _mm512_alignr_epi32::<15>(v, zero));
                v = _mm512_add_epi32(v, _mm512_alignr_epi32::<14>(v, zero));
                v = _mm512_add_epi32(v, _mm512_alignr_epi32::<12>(v, zero));
                v = _mm512_add_epi32(v, _mm512_alignr_epi32::<8>(v, zero));
                // The block's total comes from the block alone, so the only chain from
                // block to block is one add.
                let total = _mm512_permutexvar_epi32(last, v);
                _mm512_storeu_si512(sums.as_mut_ptr().add(x).cast(), _mm512_add_epi32(v, carry));
                carry = _mm512_add_epi32(carry, total);
            }
            x += 16;
        }
        x - 1
    }
}

/// `sums[x] = Σ cols[x .. x + wx]`: the steps of the running sum in one vectorized pass,
/// then their prefix sums (exact in wrapping u32 arithmetic, since every window sum
/// fits u32).
fn running_sums(level: SimdLevel, cols: &[u32], wx: usize, sums: &mut [u32]) {
    let w = sums.len();
    sums[0] = cols[..wx].iter().sum();
    #[cfg(target_arch = "x86_64")]
    if matches!(level, SimdLevel::Avx512 | SimdLevel::Avx512Vbmi)
        && SimdLevel::Avx512.is_supported()
    {
        // SAFETY: the guard just checked that the CPU has AVX-512 F.
        let done = unsafe { scan_avx512::running(cols, wx, sums) };
        let mut acc = sums[done];
        for x in done + 1..w {
            acc = acc.wrapping_add(cols[x + wx - 1].wrapping_sub(cols[x - 1]));
            sums[x] = acc;
        }
        return;
    }
    window_steps(level, &cols[..w + wx - 1], wx, &mut sums[1..]);
    // Four segments, each restarted with a direct sum, scanned side by side: four
    // independent add chains instead of one.
    let seg = w / 4;
    if seg <= 2 * wx {
        let mut acc = sums[0];
        for s in &mut sums[1..] {
            acc = acc.wrapping_add(*s);
            *s = acc;
        }
        return;
    }
    for k in 1..4 {
        let x0 = k * seg;
        sums[x0] = cols[x0..x0 + wx].iter().sum();
    }
    let (s0, rest) = sums.split_at_mut(seg);
    let (s1, rest) = rest.split_at_mut(seg);
    let (s2, s3) = rest.split_at_mut(seg);
    let mut acc = [s0[0], s1[0], s2[0], s3[0]];
    let lanes = s0[1..]
        .iter_mut()
        .zip(&mut s1[1..])
        .zip(&mut s2[1..])
        .zip(&mut s3[1..seg]);
    for (((a, b), c), d) in lanes {
        acc[0] = acc[0].wrapping_add(*a);
        *a = acc[0];
        acc[1] = acc[1].wrapping_add(*b);
        *b = acc[1];
        acc[2] = acc[2].wrapping_add(*c);
        *c = acc[2];
        acc[3] = acc[3].wrapping_add(*d);
        *d = acc[3];
    }
    let mut tail = acc[3];
    for v in &mut s3[seg..] {
        tail = tail.wrapping_add(*v);
        *v = tail;
    }
}

/// The running column and window sums of one box of the integer cascade, per band.
#[derive(Debug, Default)]
struct StageSums {
    /// Column sums over the box's rows, padded on both sides by the border.
    cols: Vec<u32>,
    /// Window sums of one output row.
    sums: Vec<u32>,
}

impl StageSums {
    /// Window sums of output row `y` of a `wx`×`wy` box over an input of `h` rows.
    /// `row(i)` returns input row `i` (0 <= i < h); rows outside the image are mapped
    /// through `border` here. At `first` the column sums are filled from the whole
    /// window, otherwise slid down by one row from row `y − 1`.
    #[allow(clippy::too_many_arguments)]
    fn row<'a, S: StageInput>(
        &mut self,
        level: SimdLevel,
        (wx, wy): (usize, usize),
        border: Border,
        h: usize,
        row: impl Fn(usize) -> &'a [S],
        y: usize,
        first: bool,
    ) -> &[u32] {
        let w = self.sums.len();
        let (rx, ry) = (wx / 2, (wy / 2) as isize);
        let mapped = |v: isize| row(border.map(v, h).expect("reflect or replicate border"));
        let y = y as isize;
        let col = &mut self.cols[rx..rx + w];
        if first {
            col.fill(0);
            for d in -ry..=ry {
                S::col_add(level, col, mapped(y + d));
            }
        } else {
            S::col_slide(level, col, mapped(y + ry), mapped(y - ry - 1));
        }
        for x in (-(rx as isize)..0).chain(w as isize..(w + rx) as isize) {
            let xx = border.map(x, w).expect("reflect or replicate border");
            self.cols[(rx as isize + x) as usize] = self.cols[rx + xx];
        }
        running_sums(level, &self.cols, wx, &mut self.sums);
        &self.sums
    }
}

/// The last rows an intermediate box wrote, in `len` slots of `w` Q8 values: row `y` is
/// in slot `y % len`.
#[derive(Debug, Default)]
struct RowRing {
    rows: Vec<u16>,
    len: usize,
}

impl RowRing {
    /// Slots for the rows a box of radius `r` reads (its window and the row leaving it),
    /// or the whole input when that is no taller.
    fn fit(&mut self, w: usize, h: usize, r: usize) {
        self.len = (2 * r + 2).min(h);
        self.rows.resize(self.len * w, 0);
    }

    /// Whether the ring holds all `h` rows (then it is filled at once).
    fn whole(&self, h: usize) -> bool {
        self.len == h
    }

    fn row(&self, y: usize, w: usize) -> &[u16] {
        let at = (y % self.len) * w;
        &self.rows[at..at + w]
    }

    fn row_mut(&mut self, y: usize, w: usize) -> &mut [u16] {
        let at = (y % self.len) * w;
        &mut self.rows[at..at + w]
    }
}

/// Per-band scratch of the fused cascade: the sums of each box and the rings between them.
#[derive(Debug, Default)]
struct BandScratch {
    stages: [StageSums; BOXES],
    rings: [RowRing; BOXES - 1],
}

/// The u8 cascade in integers: each box's window sums are exact in u32, the first two
/// boxes' means are kept in Q8 (u16, 1/256 gray level), the last is rounded to u8. The
/// f32 cascade moved 4-byte floats with 8-byte sums through every box; this moves 2-byte
/// intermediates with 4-byte sums.
///
/// The three boxes run fused, row by row: each intermediate box writes into a ring of
/// the few rows the next one reads (its window and the row leaving it), so the
/// intermediates stay in cache instead of going through two whole frames in memory.
/// Each band of rows computes the intermediate rows above and below it that it reads
/// (a halo); the sums are exact, so bands and threads give identical output.
#[derive(Debug)]
struct IntCascade {
    widths: [(usize, usize); BOXES],
    border: Border,
    scratch: Vec<BandScratch>,
}

impl IntCascade {
    fn apply(&mut self, level: SimdLevel, src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>) {
        let (w, h) = src.size();
        // f32 scaling: the sums convert with a relative error below 2^-24, far below the
        // half-unit rounding of the results (at most 65280 Q8 units, or 255).
        let area = |i: usize| (self.widths[i].0 * self.widths[i].1) as f32;
        let scale = [256.0 / area(0), 1.0 / area(1), 1.0 / (256.0 * area(2))];
        let radii = self.widths.map(|(_, wy)| wy / 2);
        let band_rows = if w * h < parallel::POINT_OP_PAR_MIN_PIXELS {
            h
        } else {
            // Bands tall enough that their halos (rows of the first two boxes computed
            // twice) stay a small part of the work.
            parallel::band_rows_for(h, 8 * (radii[1] + 2 * radii[2]))
        };
        let bands = h.div_ceil(band_rows.max(1));
        if self.scratch.len() < bands {
            self.scratch.resize_with(bands, BandScratch::default);
        }
        for s in &mut self.scratch {
            for (stage, (wx, _)) in s.stages.iter_mut().zip(self.widths) {
                stage.sums.resize(w, 0);
                stage.cols.resize(w + 2 * (wx / 2), 0);
            }
            for (i, ring) in s.rings.iter_mut().enumerate() {
                ring.fit(w, h, radii[i + 1]);
            }
        }
        let (widths, border) = (self.widths, self.border);
        parallel::for_each_band_with_scratch(
            dst.reborrow(),
            band_rows,
            &mut self.scratch,
            &|y0, band, s| fused_band(level, widths, border, scale, src, y0, band, s),
        );
    }
}

/// Rows `y0 ..` of the cascade into `band`. Each box produces its rows on demand, just
/// before the next box reads them: box 2's row `y` needs box 1's rows up to `y + r₂`
/// (or the last row), box 3's row needs box 2's up to `y + r₃`. A box starts `r` rows
/// above the first row its reader needs (at row 0 at the top), and its ring keeps the
/// reader's window and leaving row, which under reflection at the edges are rows the
/// ring still holds.
#[allow(clippy::too_many_arguments)]
fn fused_band(
    level: SimdLevel,
    widths: [(usize, usize); BOXES],
    border: Border,
    scale: [f32; BOXES],
    src: &ImageView<'_, u8>,
    y0: usize,
    mut band: ImageViewMut<'_, u8>,
    s: &mut BandScratch,
) {
    let (w, h) = src.size();
    let [first, second, third] = &mut s.stages;
    let [ring1, ring2] = &mut s.rings;
    let (r2, r3) = (widths[1].1 / 2, widths[2].1 / 2);
    // The last row of a ring the reader of row `y` needs.
    let needed = |ring: &RowRing, y: usize, r: usize| {
        if ring.whole(h) {
            h - 1
        } else {
            (y + r).min(h - 1)
        }
    };
    let start = |ring: &RowRing, y: usize, r: usize| {
        if ring.whole(h) {
            0
        } else {
            y.saturating_sub(r)
        }
    };
    let start2 = start(ring2, y0, r3);
    let start1 = start(ring1, start2, r2);
    let (mut next1, mut next2) = (start1, start2);
    for y in y0..y0 + band.height() {
        while next2 <= needed(ring2, y, r3) {
            while next1 <= needed(ring1, next2, r2) {
                let sums = first.row(
                    level,
                    widths[0],
                    border,
                    h,
                    |i| src.row(i),
                    next1,
                    next1 == start1,
                );
                scale_to_u16(level, sums, scale[0], ring1.row_mut(next1, w));
                next1 += 1;
            }
            let ring1 = &*ring1;
            let sums = second.row(
                level,
                widths[1],
                border,
                h,
                |i| ring1.row(i, w),
                next2,
                next2 == start2,
            );
            scale_to_u16(level, sums, scale[1], ring2.row_mut(next2, w));
            next2 += 1;
        }
        let ring2 = &*ring2;
        let sums = third.row(level, widths[2], border, h, |i| ring2.row(i, w), y, y == y0);
        scale_to_u8(level, sums, scale[2], band.row_mut(y - y0));
    }
}

/// A reusable cascade for one (sigma x, sigma y); its scratch is kept (the u8 path's
/// rings of rows, the f32 path's intermediate frames).
#[derive(Debug)]
pub struct BoxCascade {
    boxes: Vec<BoxFilter>,
    tmp: [Option<Image<f32>>; 2],
    /// The integer path for u8 images, when every box is at most [`INT_MAX_WIDTH`] wide
    /// and the border reflects (the cascade's only border).
    int_u8: Option<IntCascade>,
}

impl BoxCascade {
    pub fn new(sigma: (f64, f64), border: Border) -> Result<Self> {
        let (wx, wy) = (box_widths(sigma.0), box_widths(sigma.1));
        let boxes = (0..BOXES)
            .map(|i| BoxFilter::new((wx[i], wy[i]), border))
            .collect::<Result<Vec<_>>>()?;
        let widths: [(usize, usize); BOXES] = std::array::from_fn(|i| (wx[i], wy[i]));
        let int_u8 = (widths.iter().all(|&(x, y)| x.max(y) <= INT_MAX_WIDTH)
            && border == Border::Reflect101)
            .then(|| IntCascade {
                widths,
                border,
                scratch: Vec::new(),
            });
        Ok(BoxCascade {
            boxes,
            tmp: [None, None],
            int_u8,
        })
    }

    /// The box sizes (x, y) of each stage.
    pub fn widths(&self) -> Vec<(usize, usize)> {
        self.boxes.iter().map(|b| b.ksize()).collect()
    }

    fn tmp(&mut self, size: (usize, usize)) -> Result<[Image<f32>; 2]> {
        let take = |slot: &mut Option<Image<f32>>| -> Result<Image<f32>> {
            match slot.take() {
                Some(img) if img.size() == size => Ok(img),
                _ => Image::new(size.0, size.1),
            }
        };
        Ok([take(&mut self.tmp[0])?, take(&mut self.tmp[1])?])
    }

    pub fn apply_u8(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        if let Some(int) = &mut self.int_u8 {
            int.apply(level, src, dst);
            return Ok(());
        }
        let [mut a, mut b] = self.tmp(src.size())?;
        let result = (|| {
            self.boxes[0].mean_u8_to_f32_at(level, src, &mut a.as_view_mut())?;
            self.boxes[1].apply_f32_at(level, &a.as_view(), &mut b.as_view_mut(), true)?;
            self.boxes[2].mean_f32_to_u8_at(level, &b.as_view(), dst)
        })();
        self.tmp = [Some(a), Some(b)];
        result
    }

    pub fn apply_f32(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        let [mut a, mut b] = self.tmp(src.size())?;
        let result = (|| {
            self.boxes[0].apply_f32_at(level, src, &mut a.as_view_mut(), true)?;
            self.boxes[1].apply_f32_at(level, &a.as_view(), &mut b.as_view_mut(), true)?;
            self.boxes[2].apply_f32_at(level, &b.as_view(), dst, true)
        })();
        self.tmp = [Some(a), Some(b)];
        result
    }
}
