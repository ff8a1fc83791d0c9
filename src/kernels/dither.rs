//! Floyd–Steinberg error diffusion, u8 to 0/255, with an optional serpentine order.
//!
//! Integer arithmetic, defined exactly so any implementation can be checked against it:
//! errors are kept in sixteenths. A pixel's value is `src + ((acc + 8) >> 4)` (acc: the
//! sixteenths it received); it becomes 255 when the value is at least 128, else 0; its
//! error `value − out` goes 7/16 ahead, 3/16 behind-below, 5/16 below, 1/16 ahead-below
//! ("ahead" follows the scan direction, which alternates per row when serpentine).
//!
//! Each pixel depends on the one before it (the chapter's Exercise 8.2.1 (d)): one row
//! is a chain of about six dependent integer operations per pixel, so a row at a time
//! runs at the chain's latency, not at the core's width. But a pixel needs the row
//! above only up to one pixel ahead of it, so [`ROWS`] rows run together as a
//! wavefront, each [`LAG`] pixels behind the row above it: the rows' chains are
//! independent within a step and the core overlaps them. With SIMD (AVX-512, AVX2,
//! NEON) the wavefront is 16 rows wide, a row per lane (see `avx512`); in scalar code
//! [`ROWS`] rows.
//! (Serpentine rows alternate direction, so a row cannot start before the one above
//! it ends: they run one at a time, on the same per-pixel step.)
//!
//! Measured (4K, one thread, 2026-12-04): one row at a time with the errors carried
//! through memory 21-26 ms; the scalar four-row wavefront 14-15.5 ms; AVX2 8.4-9.5 ms;
//! AVX-512 6.4-7.8 ms (NEON: tested under qemu, not yet timed on a board).
//!
//! Where a pixel's error goes is computed the other way round: the sixteenths the row
//! below receives at a position are complete once the pixel after it is done
//! (`e[x−1] + 5·e[x] + 3·e[x+1]`), so every accumulator is written once, from
//! registers, and the error carried ahead never goes through memory.

use std::cell::Cell;

use crate::Result;
use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::simd::{self, SimdLevel};

/// Rows dithered together as one wavefront.
pub const ROWS: usize = 4;
/// How many pixels each row of a wavefront runs behind the row above: with two, a
/// pixel reads sixteenths the row above completed in an earlier step.
pub const LAG: usize = 2;

/// Scratch: the sixteenths each row receives from the row above, one row of them per
/// row of a wavefront and one for the row after it; kept between calls.
#[derive(Debug, Default)]
pub struct Dither {
    acc: Vec<i32>,
}

/// The errors of the last two pixels of a row, in scan order.
#[derive(Clone, Copy, Default)]
struct Carry {
    last: i32,
    before_last: i32,
}

impl Carry {
    /// Dithers one pixel: `from_above` is the sixteenths the rows above sent it.
    /// Returns the output and the row below's complete sixteenths for the pixel
    /// *behind* this one in scan order. `(a + 8) >> 4` plus the source equals
    /// `(a + 8 + 16·src) >> 4` exactly, which keeps the source off the chain.
    #[inline(always)]
    fn step(&mut self, src: u8, from_above: i32) -> (u8, i32) {
        let value = (from_above + 8 + 16 * i32::from(src) + 7 * self.last) >> 4;
        // 255 where value >= 128, else 0, without a branch: the sign of 127 − value
        // spread over the word (a branch here mispredicts on every edge of the image).
        let out = ((127 - value) >> 31) & 255;
        let err = value - out;
        let behind_below = self.before_last + 5 * self.last + 3 * err;
        self.before_last = self.last;
        self.last = err;
        (out as u8, behind_below)
    }

    /// The row below's sixteenths for a row's last pixel (nothing comes after it).
    #[inline(always)]
    fn last_below(&self) -> i32 {
        self.before_last + 5 * self.last
    }
}

impl Dither {
    pub fn new() -> Self {
        Self::default()
    }

    /// Dithers `src` into `dst` (same size): every output pixel is 0 or 255.
    pub fn apply(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
        serpentine: bool,
    ) -> Result<()> {
        self.apply_at(simd::level()?, src, dst, serpentine)
    }

    /// [`Self::apply`] at an explicit SIMD level (the same bits on every level).
    pub fn apply_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
        serpentine: bool,
    ) -> Result<()> {
        let level = level.check()?;
        check_same_size("output", src.size(), dst.size())?;
        let (w, h) = src.size();
        self.acc.clear();
        self.acc.resize((ROWS + 1) * w, 0);
        let mut y = 0;
        if !serpentine {
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            if let Some(wavefront) = lane_wavefront(level).filter(|_| w <= pieces::MAX_WIDTH) {
                while y + pieces::LANES <= h {
                    let src_rows = std::array::from_fn(|i| src.row(y + i));
                    let (above, below) = self.acc.split_at_mut(w);
                    // SAFETY: `lane_wavefront` checked that the CPU has the features
                    // the function it chose is compiled for.
                    unsafe {
                        wavefront(
                            &src_rows,
                            &mut dst.consecutive_rows_mut(y),
                            above,
                            &mut below[..w],
                        )
                    };
                    self.acc.copy_within(w..2 * w, 0);
                    y += pieces::LANES;
                }
            }
            let _ = level; // read above only where there are lane wavefronts
            while y + ROWS <= h {
                let src_rows = std::array::from_fn(|i| src.row(y + i));
                let acc = Cell::from_mut(&mut self.acc[..]).as_slice_of_cells();
                wavefront::<ROWS>(src_rows, dst.consecutive_rows_mut(y), acc, w);
                self.acc.copy_within(ROWS * w.., 0);
                y += ROWS;
            }
        }
        for y in y..h {
            let (from_above, to_below) = self.acc.split_at_mut(w);
            let (s, d) = (src.row(y), dst.row_mut(y));
            if serpentine && y % 2 == 1 {
                one_row::<true>(s, d, from_above, &mut to_below[..w]);
            } else {
                one_row::<false>(s, d, from_above, &mut to_below[..w]);
            }
            self.acc.copy_within(w..2 * w, 0);
        }
        Ok(())
    }
}

/// The 16-row lane wavefront for `level`, if the CPU has it (the one dispatch point).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn lane_wavefront(level: SimdLevel) -> Option<pieces::Wavefront> {
    match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
            Some(avx512::wavefront)
        }
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 if level.is_supported() => Some(avx2::wavefront),
        #[cfg(target_arch = "aarch64")]
        SimdLevel::Neon if level.is_supported() => Some(neon::wavefront),
        _ => None,
    }
}

/// One row on its own, backwards if `BACKWARDS`; writes every element of `to_below`.
fn one_row<const BACKWARDS: bool>(
    src: &[u8],
    dst: &mut [u8],
    from_above: &[i32],
    to_below: &mut [i32],
) {
    let w = src.len();
    let at = |j: usize| if BACKWARDS { w - 1 - j } else { j };
    let mut carry = Carry::default();
    for j in 0..w {
        let x = at(j);
        let (out, behind_below) = carry.step(src[x], from_above[x]);
        dst[x] = out;
        if j > 0 {
            to_below[at(j - 1)] = behind_below;
        }
    }
    if w > 0 {
        to_below[at(w - 1)] = carry.last_below();
    }
}

/// `R` rows forwards as a wavefront. `acc` holds `R + 1` rows of `w` sixteenths: row
/// `i` of the wavefront reads row `i` and writes row `i + 1` (all of it). Row `i`
/// completes position `x` while it dithers `x + 1`, a step before row `i + 1` reads it
/// (see [`LAG`]). Hence cells: a row of them is read and written in the same loop,
/// never the same element in the same step.
fn wavefront<const R: usize>(
    src: [&[u8]; R],
    mut dst: [&mut [u8]; R],
    acc: &[Cell<i32>],
    w: usize,
) {
    let acc_row = |i: usize| &acc[i * w..(i + 1) * w];
    let mut carry = [Carry::default(); R];
    let steps = w + LAG * (R - 1);
    // Steps in which every row is past its first pixel and short of its last.
    let inner = LAG * (R - 1) + 1..w.saturating_sub(1);
    let edge_step = |t: usize, dst: &mut [&mut [u8]; R], carry: &mut [Carry; R]| {
        for (i, (carry, d)) in carry.iter_mut().zip(dst.iter_mut()).enumerate() {
            let Some(x) = t.checked_sub(LAG * i).filter(|&x| x < w) else {
                continue;
            };
            let (out, behind_below) = carry.step(src[i][x], acc_row(i)[x].get());
            d[x] = out;
            if x > 0 {
                acc_row(i + 1)[x - 1].set(behind_below);
            }
            if x + 1 == w {
                acc_row(i + 1)[x].set(carry.last_below());
            }
        }
    };
    for t in 0..inner.start.min(steps) {
        edge_step(t, &mut dst, &mut carry);
    }
    if !inner.is_empty() {
        // Each row's part of the inner steps as slices of one length, so the loop
        // indexes them without bounds checks.
        let n = inner.len();
        let first = |i: usize| inner.start - LAG * i;
        let src_in: [&[u8]; R] = std::array::from_fn(|i| &src[i][first(i)..first(i) + n]);
        let above: [&[Cell<i32>]; R] = std::array::from_fn(|i| &acc_row(i)[first(i)..][..n]);
        let below: [&[Cell<i32>]; R] =
            std::array::from_fn(|i| &acc_row(i + 1)[first(i) - 1..][..n]);
        // (`map` visits the rows in order; `row` counts them.)
        let mut row = 0;
        let out: [&mut [u8]; R] = dst.each_mut().map(|d| {
            let x0 = first(row);
            row += 1;
            &mut d[x0..x0 + n]
        });
        for j in 0..n {
            for i in 0..R {
                let (value, behind_below) = carry[i].step(src_in[i][j], above[i][j].get());
                out[i][j] = value;
                below[i][j].set(behind_below);
            }
        }
    }
    for t in inner.start.max(inner.end)..steps {
        edge_step(t, &mut dst, &mut carry);
    }
}

/// What the lane wavefronts share: 16-pixel pieces of rows that may start before a
/// row or end past it.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod pieces {
    /// Rows per lane wavefront: one per lane, in one, two or four vectors.
    pub(super) const LANES: usize = 16;
    /// Widest row the lanes' i32 positions handle.
    pub(super) const MAX_WIDTH: usize = 1 << 30;
    /// The signature every lane wavefront has.
    pub(super) type Wavefront =
        unsafe fn(&[&[u8]; LANES], &mut [&mut [u8]; LANES], &[i32], &mut [i32]);

    /// 16 pixels of `row` from `x` (which may start before it or end past it; those
    /// read 0).
    #[inline(always)]
    pub(super) fn load_piece(row: &[u8], x: isize) -> [u8; 16] {
        match usize::try_from(x).ok().and_then(|x| row.get(x..x + 16)) {
            Some(inside) => inside.try_into().expect("16 bytes"),
            None => load_outside(row, x),
        }
    }

    /// Stores the 16 `T`s of `v` into `row` from `x`, only those that fall inside it.
    #[inline(always)]
    pub(super) fn store_piece<T: Copy>(row: &mut [T], x: isize, v: [T; 16]) {
        match usize::try_from(x).ok().and_then(|x| row.get_mut(x..x + 16)) {
            Some(inside) => inside.copy_from_slice(&v),
            None => store_outside(row, x, v),
        }
    }

    /// Checks a wavefront's rows and rows of sixteenths against each other; returns
    /// the row width.
    pub(super) fn checked_width(
        src: &[&[u8]; LANES],
        dst: &[&mut [u8]; LANES],
        above: &[i32],
        below: &[i32],
    ) -> usize {
        let w = above.len();
        assert!(
            w <= MAX_WIDTH
                && below.len() == w
                && src.iter().all(|r| r.len() == w)
                && dst.iter().all(|r| r.len() == w),
            "rows of unequal length"
        );
        w
    }

    /// The positions `x + j` of a piece of 16 that lie inside a row of `len`, with `j`.
    fn inside(len: usize, x: isize) -> impl Iterator<Item = (usize, usize)> {
        (0..16).filter_map(move |j| {
            let at = usize::try_from(x + j as isize).ok()?;
            (at < len).then_some((j, at))
        })
    }

    // A piece not wholly inside its row (at the ends of rows only) is read and written
    // element by element, out of line: inline, it kept the 16 rows' loads and stores
    // from being unrolled.
    #[cold]
    #[inline(never)]
    fn load_outside(row: &[u8], x: isize) -> [u8; 16] {
        let mut piece = [0; 16];
        for (j, at) in inside(row.len(), x) {
            piece[j] = row[at];
        }
        piece
    }

    #[cold]
    #[inline(never)]
    fn store_outside<T: Copy>(row: &mut [T], x: isize, v: [T; 16]) {
        for (j, at) in inside(row.len(), x) {
            row[at] = v[j];
        }
    }
}

/// The x86 wavefronts' 16-byte loads (SSE2, which every x86_64 CPU has); their byte
/// transpose is [`crate::simd::transpose::x86::transpose_bytes`].
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// 16 pixels of `row` from `x`, as [`super::pieces::load_piece`] reads them.
    #[inline(always)]
    pub(super) fn load_vector(row: &[u8], x: isize) -> __m128i {
        let piece = super::pieces::load_piece(row, x);
        // SAFETY: `piece` is 16 bytes; SSE2 is part of every x86_64 CPU.
        unsafe { _mm_loadu_si128(piece.as_ptr().cast()) }
    }
}

/// 16 rows forwards as one wavefront, a row per lane: lane `i` dithers pixel
/// `t − LAG·i` of its row in step `t`. The sixteenths a lane receives from the row
/// above are the lane below's "behind, one row down" of the step before, shifted up
/// one lane (lane 0 takes the row above the 16 from memory), so they never leave the
/// registers; lane 15's go to memory for the next 16 rows. Sources come in through a
/// 16x16 byte transpose: 16 steps read one 16-pixel piece of each row. Outputs go out
/// as the steps' compare masks, a 16x16 bit matrix: bit `i` of every step's mask is
/// row `i`'s piece (AVX2 and NEON narrow the compare lanes to bytes and transpose
/// back instead). Lanes outside their row (before its start, past its end) are held at zero
/// error, and their outputs are not stored. Every lane does the scalar step's integer
/// operations, so the bits are the scalar ones.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::LAG;

    use super::pieces::{LANES, checked_width, store_piece};
    use super::x86::load_vector;
    use crate::simd::transpose::x86::transpose_bytes;

    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub(super) fn wavefront(
        src: &[&[u8]; LANES],
        dst: &mut [&mut [u8]; LANES],
        above: &[i32],
        below: &mut [i32],
    ) {
        let w = checked_width(src, dst, above, below);
        const BEHIND: [i32; 16] = {
            let mut lag = [0i32; 16];
            let mut i = 0;
            while i < 16 {
                lag[i] = (LAG * i) as i32;
                i += 1;
            }
            lag
        };
        const SHIFT_IN_LAST: [i32; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 31];
        // SAFETY: both arrays are 16 i32s.
        let (behind, shift_in_last) = unsafe {
            (
                _mm512_loadu_si512(BEHIND.as_ptr().cast()),
                _mm512_loadu_si512(SHIFT_IN_LAST.as_ptr().cast()),
            )
        };
        let width = _mm512_set1_epi32(w as i32);
        let (eight, high, full) = (
            _mm512_set1_epi32(8),
            _mm512_set1_epi32(127),
            _mm512_set1_epi32(255),
        );
        let (three, five, seven) = (
            _mm512_set1_epi32(3),
            _mm512_set1_epi32(5),
            _mm512_set1_epi32(7),
        );
        let zero = _mm512_setzero_si512();
        // Per lane: the errors of its last two pixels; the sixteenths it sent below
        // for the pixel behind in the last step; lane 15's of the last 16 steps.
        let (mut last, mut before_last, mut behind_below, mut last_lane) = (zero, zero, zero, zero);
        // Lane 15 writes the position before its pixel, and one step past its row's
        // end it writes the row's last position.
        let last_lag = (LAG * (LANES - 1)) as isize + 1;
        let steps = w + last_lag as usize;
        let mut t0 = 0;
        while t0 < steps {
            let mut pieces = [_mm_setzero_si128(); 16];
            for (i, piece) in pieces.iter_mut().enumerate() {
                *piece = load_vector(src[i], t0 as isize - (LAG * i) as isize);
            }
            // Bit i of whites[j]: row i's pixel of step t0 + j is white.
            let mut whites = [0u16; 16];
            for (j, pixels) in transpose_bytes(pieces).into_iter().enumerate() {
                let t = t0 + j;
                let x = _mm512_sub_epi32(_mm512_set1_epi32(t as i32), behind);
                let inside = _mm512_cmplt_epu32_mask(x, width);
                let first_lane = _mm512_set1_epi32(above.get(t).copied().unwrap_or(0));
                let from_above = _mm512_alignr_epi32::<15>(behind_below, first_lane);
                let sixteenths = _mm512_add_epi32(
                    _mm512_add_epi32(from_above, eight),
                    _mm512_slli_epi32::<4>(_mm512_cvtepu8_epi32(pixels)),
                );
                let value = _mm512_srai_epi32::<4>(_mm512_add_epi32(
                    sixteenths,
                    _mm512_mullo_epi32(last, seven),
                ));
                let white = _mm512_cmpgt_epi32_mask(value, high);
                let err = _mm512_maskz_mov_epi32(
                    inside,
                    _mm512_mask_sub_epi32(value, white, value, full),
                );
                behind_below = _mm512_add_epi32(
                    _mm512_add_epi32(before_last, _mm512_mullo_epi32(last, five)),
                    _mm512_mullo_epi32(err, three),
                );
                before_last = last;
                last = err;
                last_lane = _mm512_permutex2var_epi32(last_lane, shift_in_last, behind_below);
                whites[j] = white;
            }
            let mut sent = [0i32; 16];
            // SAFETY: `sent` is 16 i32s.
            unsafe { _mm512_storeu_si512(sent.as_mut_ptr().cast(), last_lane) };
            store_piece(below, t0 as isize - last_lag, sent);
            // SAFETY: `whites` is 16 u16s.
            let whites = unsafe { _mm256_loadu_si256(whites.as_ptr().cast()) };
            for (i, row) in dst.iter_mut().enumerate() {
                // Row i's 16 outputs: bit i of each step's mask, as 0 or 0xFF bytes.
                let white = _mm256_test_epi16_mask(whites, _mm256_set1_epi16(1 << i));
                let mut bytes = [0u8; 16];
                // SAFETY: `bytes` is 16 bytes.
                unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), _mm_movm_epi8(white)) };
                store_piece(row, t0 as isize - (LAG * i) as isize, bytes);
            }
            t0 += 16;
        }
    }
}

/// The AVX-512 wavefront's 16 rows in two vectors of eight lanes: rows 0-7 and 8-15.
/// AVX2 has no lane shift across a whole vector, so the shift up one lane is a rotate
/// (`vpermd`) and a blend of the lane that comes in (from the row above the 16, or from
/// the first vector's last lane); the compares give all-ones lanes, packed into the
/// step's 16 output bytes.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::LAG;
    use super::pieces::{LANES, checked_width, store_piece};
    use super::x86::load_vector;
    use crate::simd::transpose::x86::transpose_bytes;

    #[target_feature(enable = "avx2")]
    pub(super) fn wavefront(
        src: &[&[u8]; LANES],
        dst: &mut [&mut [u8]; LANES],
        above: &[i32],
        below: &mut [i32],
    ) {
        let w = checked_width(src, dst, above, below);
        let lag = |i: i32| i * LAG as i32;
        let behind = [
            _mm256_setr_epi32(
                lag(0),
                lag(1),
                lag(2),
                lag(3),
                lag(4),
                lag(5),
                lag(6),
                lag(7),
            ),
            _mm256_setr_epi32(
                lag(8),
                lag(9),
                lag(10),
                lag(11),
                lag(12),
                lag(13),
                lag(14),
                lag(15),
            ),
        ];
        // `x < w` unsigned, as a signed compare with both sides' sign bits flipped.
        let sign = _mm256_set1_epi32(i32::MIN);
        let width = _mm256_set1_epi32(w as i32 ^ i32::MIN);
        let rotate_up = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
        let (eight, high, full) = (
            _mm256_set1_epi32(8),
            _mm256_set1_epi32(127),
            _mm256_set1_epi32(255),
        );
        let zero = _mm256_setzero_si256();
        let mut last = [zero; 2];
        let mut before_last = [zero; 2];
        let mut behind_below = [zero; 2];
        let last_lag = (LAG * (LANES - 1)) as isize + 1;
        let steps = w + last_lag as usize;
        let mut t0 = 0;
        while t0 < steps {
            let mut pieces = [_mm_setzero_si128(); 16];
            for (i, piece) in pieces.iter_mut().enumerate() {
                *piece = load_vector(src[i], t0 as isize - (LAG * i) as isize);
            }
            let mut outs = [_mm_setzero_si128(); 16];
            let mut sent = [0i32; 16];
            for (j, pixels) in transpose_bytes(pieces).into_iter().enumerate() {
                let t = t0 + j;
                let pixels = [
                    _mm256_cvtepu8_epi32(pixels),
                    _mm256_cvtepu8_epi32(_mm_unpackhi_epi64(pixels, pixels)),
                ];
                let first_row = _mm256_set1_epi32(above.get(t).copied().unwrap_or(0));
                let up = [
                    _mm256_permutevar8x32_epi32(behind_below[0], rotate_up),
                    _mm256_permutevar8x32_epi32(behind_below[1], rotate_up),
                ];
                // Lane 0 of `up[0]` is the first vector's last lane.
                let from_above = [
                    _mm256_blend_epi32::<1>(up[0], first_row),
                    _mm256_blend_epi32::<1>(up[1], up[0]),
                ];
                let t_lanes = _mm256_set1_epi32(t as i32);
                let mut white = [zero; 2];
                for g in 0..2 {
                    let x = _mm256_sub_epi32(t_lanes, behind[g]);
                    let inside = _mm256_cmpgt_epi32(width, _mm256_xor_si256(x, sign));
                    let sixteenths = _mm256_add_epi32(
                        _mm256_add_epi32(from_above[g], eight),
                        _mm256_slli_epi32::<4>(pixels[g]),
                    );
                    let seven_last = _mm256_sub_epi32(_mm256_slli_epi32::<3>(last[g]), last[g]);
                    let value = _mm256_srai_epi32::<4>(_mm256_add_epi32(sixteenths, seven_last));
                    white[g] = _mm256_cmpgt_epi32(value, high);
                    let err = _mm256_and_si256(
                        _mm256_sub_epi32(value, _mm256_and_si256(white[g], full)),
                        inside,
                    );
                    let five_last = _mm256_add_epi32(_mm256_slli_epi32::<2>(last[g]), last[g]);
                    let three_err = _mm256_add_epi32(_mm256_slli_epi32::<1>(err), err);
                    behind_below[g] =
                        _mm256_add_epi32(_mm256_add_epi32(before_last[g], five_last), three_err);
                    before_last[g] = last[g];
                    last[g] = err;
                }
                sent[j] = _mm256_extract_epi32::<7>(behind_below[1]);
                // The 16 rows' outputs as bytes (all-ones lanes saturate to 0xFF):
                // packing interleaves the vectors' halves, the permute restores rows.
                let words = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(
                    white[0], white[1],
                ));
                outs[j] = _mm_packs_epi16(
                    _mm256_castsi256_si128(words),
                    _mm256_extracti128_si256::<1>(words),
                );
            }
            store_piece(below, t0 as isize - last_lag, sent);
            for (i, out) in transpose_bytes(outs).into_iter().enumerate() {
                let mut bytes = [0u8; 16];
                // SAFETY: `bytes` is 16 bytes.
                unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), out) };
                store_piece(dst[i], t0 as isize - (LAG * i) as isize, bytes);
            }
            t0 += 16;
        }
    }
}

/// The 16-row lane wavefront on NEON: four vectors of four lanes (rows 0-3, 4-7, 8-11,
/// 12-15). The shift up one lane is one `ext` of the vector before (or the row above
/// the 16) with this one; the byte transpose is
/// [`crate::simd::transpose::neon::transpose_bytes`]; the compare masks narrow to the
/// step's 16 output bytes.
#[cfg(target_arch = "aarch64")]
mod neon {
    use std::arch::aarch64::*;

    use super::LAG;
    use super::pieces::{LANES, checked_width, load_piece, store_piece};
    use crate::simd::transpose::neon::transpose_bytes;

    #[target_feature(enable = "neon")]
    pub(super) fn wavefront(
        src: &[&[u8]; LANES],
        dst: &mut [&mut [u8]; LANES],
        above: &[i32],
        below: &mut [i32],
    ) {
        let w = checked_width(src, dst, above, below);
        let behind: [int32x4_t; 4] = std::array::from_fn(|g| {
            let lag: [i32; 4] = std::array::from_fn(|i| (LAG * (4 * g + i)) as i32);
            // SAFETY: `lag` is four i32s.
            unsafe { vld1q_s32(lag.as_ptr()) }
        });
        let width = vdupq_n_u32(w as u32);
        let (eight, high, full) = (vdupq_n_s32(8), vdupq_n_s32(127), vdupq_n_s32(255));
        let zero = vdupq_n_s32(0);
        let mut last = [zero; 4];
        let mut before_last = [zero; 4];
        let mut behind_below = [zero; 4];
        let last_lag = (LAG * (LANES - 1)) as isize + 1;
        let steps = w + last_lag as usize;
        let mut t0 = 0;
        while t0 < steps {
            let mut pieces = [vdupq_n_u8(0); 16];
            for (i, piece) in pieces.iter_mut().enumerate() {
                let bytes = load_piece(src[i], t0 as isize - (LAG * i) as isize);
                // SAFETY: `bytes` is 16 bytes.
                *piece = unsafe { vld1q_u8(bytes.as_ptr()) };
            }
            let mut outs = [vdupq_n_u8(0); 16];
            let mut sent = [0i32; 16];
            for (j, pixels) in transpose_bytes(pieces).into_iter().enumerate() {
                let t = t0 + j;
                let (low, high_half) = (vmovl_u8(vget_low_u8(pixels)), vmovl_high_u8(pixels));
                let pixels = [
                    vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(low))),
                    vreinterpretq_s32_u32(vmovl_high_u16(low)),
                    vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(high_half))),
                    vreinterpretq_s32_u32(vmovl_high_u16(high_half)),
                ];
                let first_row = vdupq_n_s32(above.get(t).copied().unwrap_or(0));
                // Lane 0 of each vector takes the last lane of the one before.
                let from_above = [
                    vextq_s32::<3>(first_row, behind_below[0]),
                    vextq_s32::<3>(behind_below[0], behind_below[1]),
                    vextq_s32::<3>(behind_below[1], behind_below[2]),
                    vextq_s32::<3>(behind_below[2], behind_below[3]),
                ];
                let t_lanes = vdupq_n_s32(t as i32);
                let mut white = [vdupq_n_u32(0); 4];
                for g in 0..4 {
                    let x = vreinterpretq_u32_s32(vsubq_s32(t_lanes, behind[g]));
                    let inside = vreinterpretq_s32_u32(vcltq_u32(x, width));
                    let sixteenths =
                        vaddq_s32(vaddq_s32(from_above[g], eight), vshlq_n_s32::<4>(pixels[g]));
                    let value = vshrq_n_s32::<4>(vmlaq_n_s32(sixteenths, last[g], 7));
                    white[g] = vcgtq_s32(value, high);
                    let white_value = vandq_s32(vreinterpretq_s32_u32(white[g]), full);
                    let err = vandq_s32(vsubq_s32(value, white_value), inside);
                    behind_below[g] = vmlaq_n_s32(vmlaq_n_s32(before_last[g], last[g], 5), err, 3);
                    before_last[g] = last[g];
                    last[g] = err;
                }
                sent[j] = vgetq_lane_s32::<3>(behind_below[3]);
                // All-ones lanes narrow to 0xFF bytes, rows in order.
                let halves = [
                    vmovn_u16(vcombine_u16(vmovn_u32(white[0]), vmovn_u32(white[1]))),
                    vmovn_u16(vcombine_u16(vmovn_u32(white[2]), vmovn_u32(white[3]))),
                ];
                outs[j] = vcombine_u8(halves[0], halves[1]);
            }
            store_piece(below, t0 as isize - last_lag, sent);
            for (i, out) in transpose_bytes(outs).into_iter().enumerate() {
                let mut bytes = [0u8; 16];
                // SAFETY: `bytes` is 16 bytes.
                unsafe { vst1q_u8(bytes.as_mut_ptr(), out) };
                store_piece(dst[i], t0 as isize - (LAG * i) as isize, bytes);
            }
            t0 += 16;
        }
    }
}
