//! Binomial kernels in exact integer arithmetic: `[1 2 1]/4` and `[1 4 6 4 1]/16`,
//! OpenCV's fixed 3x3 and 5x5 Gaussian tables (the default `ksize=3|5` without sigma).
//!
//! One pass over the image instead of the general path's widen, pad, horizontal and
//! vertical passes: for each output row the vertical sums come straight from the u8
//! source rows into a u16 row (at most 16·255), the row is padded by the border, and
//! the horizontal sums (at most 256·255 = 65280, still u16) are rounded once,
//! `(S + 2^(n−1)) >> n`. No multiplies, no intermediate rounding: the result is the
//! exactly rounded Gaussian with these taps (within 0.5 of a float64 convolution), the
//! same as OpenCV's bit-exact fixed-point result. The row loops are plain integer
//! code compiled for each SIMD level (`autovectorized!`), so every level gives the
//! same bits.
//!
//! The 3x3 kernel on AVX-512 and AVX2 goes the other way round, horizontal sums first:
//! each source row's `[1 2 1]` sums once into a ring of three rows (`vpmaddubsw` makes
//! the sums of neighbouring pixel pairs, each pixel's sum is two of them, scaled by
//! 32), then per output row `vpavgw(above, below) + centre + 128` is 16·(sum + 8)
//! exactly, whose high byte is the result. Even and odd pixels live in separate halves
//! of a block (64 pixels on AVX-512, 32 on AVX2), so no widening, packing or
//! permuting: 13 vector operations per 64 pixels against 18 for the two passes above.
//! Same integers, same bits.

use crate::image::{ImageView, ImageViewMut};
use crate::kernels::border::Border;
use crate::kernels::parallel;
use crate::simd::{SimdLevel, autovectorized};

/// Which binomial kernel (3 or 5 taps) `k` is exactly, if any.
pub(super) fn order_of(k: &[f64]) -> Option<usize> {
    const B3: [f64; 3] = [0.25, 0.5, 0.25];
    const B5: [f64; 5] = [0.0625, 0.25, 0.375, 0.25, 0.0625];
    match k {
        k if k == B3 => Some(3),
        k if k == B5 => Some(5),
        _ => None,
    }
}

autovectorized! {
    /// `out[i] = a[i] + 2·b[i] + c[i]`.
    fn vsum3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u16]) {
        let n = out.len();
        let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
        for i in 0..n {
            out[i] = u16::from(a[i]) + 2 * u16::from(b[i]) + u16::from(c[i]);
        }
    }
}

autovectorized! {
    /// `out[i] = a[i] + 4·b[i] + 6·c[i] + 4·d[i] + e[i]`.
    fn vsum5(a: &[u8], b: &[u8], c: &[u8], d: &[u8], e: &[u8], out: &mut [u16]) {
        let n = out.len();
        let (a, b, c, d, e) = (&a[..n], &b[..n], &c[..n], &d[..n], &e[..n]);
        for i in 0..n {
            let outer = u16::from(a[i]) + u16::from(e[i]);
            let inner = u16::from(b[i]) + u16::from(d[i]);
            out[i] = outer + 4 * inner + 6 * u16::from(c[i]);
        }
    }
}

autovectorized! {
    /// `out[i] = (t[i] + 2·t[i+1] + t[i+2] + 8) >> 4` (`t` padded by one each side).
    fn hsum3_auto(t: &[u16], out: &mut [u8]) {
        let n = out.len();
        let (l, c, r) = (&t[..n], &t[1..n + 1], &t[2..n + 2]);
        for i in 0..n {
            out[i] = ((l[i] + 2 * c[i] + r[i] + 8) >> 4) as u8;
        }
    }
}

autovectorized! {
    /// `out[i] = (t[i] + 4·t[i+1] + 6·t[i+2] + 4·t[i+3] + t[i+4] + 128) >> 8` (`t`
    /// padded by two each side; the sum is at most 65280 + 128, so u16 holds it).
    fn hsum5_auto(t: &[u16], out: &mut [u8]) {
        let n = out.len();
        let (a, b, c, d, e) = (&t[..n], &t[1..n + 1], &t[2..n + 2], &t[3..n + 3], &t[4..n + 4]);
        for i in 0..n {
            let outer = a[i] + e[i];
            let inner = b[i] + d[i];
            out[i] = ((outer + 4 * inner + 6 * c[i] + 128) >> 8) as u8;
        }
    }
}

/// AVX-512 horizontal passes: the same integer sums, narrowed with `vpackuswb` and a
/// lane permute instead of the `vpmovwb` stores the compiler picks (slow on AMD).
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// `ORDER`-tap binomial horizontal pass (3 or 5), 64 pixels per step.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn hsum<const ORDER: usize>(t: &[u16], out: &mut [u8]) -> usize {
        let n = out.len();
        assert!(t.len() >= n + ORDER - 1, "padded row too short");
        let order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
        let mut i = 0;
        while i + 64 <= n {
            // SAFETY: loads read t[i ..= i + 63 + ORDER − 1] < n + ORDER − 1 <= t.len();
            // the store writes out[i..i + 64] with i + 64 <= n.
            unsafe {
                let block = |i: usize| {
                    let at = |k: usize| _mm512_loadu_si512(t.as_ptr().add(i + k).cast());
                    if ORDER == 3 {
                        let s = _mm512_add_epi16(
                            _mm512_add_epi16(at(0), at(2)),
                            _mm512_slli_epi16::<1>(at(1)),
                        );
                        _mm512_srli_epi16::<4>(_mm512_add_epi16(s, _mm512_set1_epi16(8)))
                    } else {
                        let outer = _mm512_add_epi16(at(0), at(4));
                        let inner = _mm512_slli_epi16::<2>(_mm512_add_epi16(at(1), at(3)));
                        let c = at(2);
                        let six =
                            _mm512_add_epi16(_mm512_slli_epi16::<2>(c), _mm512_slli_epi16::<1>(c));
                        let s = _mm512_add_epi16(_mm512_add_epi16(outer, inner), six);
                        _mm512_srli_epi16::<8>(_mm512_add_epi16(s, _mm512_set1_epi16(128)))
                    }
                };
                let packed = _mm512_packus_epi16(block(i), block(i + 32));
                let v = _mm512_permutexvar_epi64(order, packed);
                _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), v);
            }
            i += 64;
        }
        i
    }

    /// Pixels per block of the 3x3 pass: one register of bytes.
    pub(super) const BLOCK: usize = 64;

    /// The `[1 2 1]` horizontal sums of one 64-pixel block whose left neighbour is
    /// `p[0]` (`p[0..66]` are read), times 32: the even pixels' into `out[0..32]`, the
    /// odd pixels' into `out[32..64]`. Three `vpmaddubsw` make the sums of neighbouring
    /// pairs (`p[x−1] + p[x]` at even and odd `x`), and each pixel's sum is two of them.
    ///
    /// # Safety
    /// AVX-512 F and BW; `p` readable for 66 bytes, `out` writable for 64 words.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn h_block3(p: *const u8, out: *mut u16) {
        // 32 on both bytes of a word: at most 32·510 per pair, no saturation.
        let pair = _mm512_set1_epi8(32);
        // SAFETY: the caller guarantees p[0..66] readable and out[0..64] writable.
        unsafe {
            let at = |k: usize| _mm512_maddubs_epi16(_mm512_loadu_si512(p.add(k).cast()), pair);
            let (left, centre, right) = (at(0), at(1), at(2));
            _mm512_storeu_si512(out.cast(), _mm512_add_epi16(left, centre));
            _mm512_storeu_si512(out.add(32).cast(), _mm512_add_epi16(centre, right));
        }
    }

    /// One source row's `[1 2 1]` horizontal sums in 64-pixel blocks (see
    /// [`h_block3`]) into `out` (`w.div_ceil(64)·64` words); `edge(x)` gives the pixel
    /// of a column just outside the row (−1 or `w`), through the border.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn h_row3(row: &[u8], edge: impl Fn(isize) -> u8, out: &mut [u16]) {
        let w = row.len();
        assert!(
            w > 0 && out.len() == w.div_ceil(BLOCK) * BLOCK,
            "ring row size"
        );
        for (b, sums) in out.chunks_exact_mut(BLOCK).enumerate() {
            let x = b * BLOCK;
            if x >= 1 && x + BLOCK < w {
                // SAFETY: reads row[x − 1 .. x + 65], inside the row as x >= 1 and
                // x + 65 <= w; writes the 64 words of `sums`.
                unsafe { h_block3(row.as_ptr().add(x - 1), sums.as_mut_ptr()) };
                continue;
            }
            let pixels = super::edge_block(row, x, BLOCK, &edge);
            // SAFETY: `pixels` holds 128 >= 66 bytes; writes the 64 words of `sums`.
            unsafe { h_block3(pixels.as_ptr(), sums.as_mut_ptr()) };
        }
    }

    /// One output row from three rows of horizontal sums ×32 in blocks (above,
    /// centre, below): `(a + 2·b + c + 8) >> 4` per pixel, as `vpavgw(a, c) + b + 128`
    /// (the average is exact: both are multiples of 32), which is 16·(sum + 8), so the
    /// result is its high byte. The odd pixels' stay in the high bytes, the even
    /// pixels' are shifted down, and one `vpternlogd` merges them (no pack, no
    /// permute).
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn v_row3(a: &[u16], b: &[u16], c: &[u16], out: &mut [u8]) {
        let n = out.len();
        let len = n.div_ceil(BLOCK) * BLOCK;
        assert!(
            a.len() == len && b.len() == len && c.len() == len,
            "ring row size"
        );
        let half = _mm512_set1_epi16(128);
        let high = _mm512_set1_epi16(0xff00u16 as i16);
        for i in (0..len).step_by(BLOCK) {
            // SAFETY: reads a, b, c [i .. i + 64] (i + 64 <= len, their length); the
            // store writes out[i .. i + 64] if it fits, else only the bytes below n
            // (masked-off bytes of a masked store are not accessed).
            unsafe {
                let at = |r: &[u16], k: usize| _mm512_loadu_si512(r.as_ptr().add(i + k).cast());
                let sum = |k: usize| {
                    let outer = _mm512_avg_epu16(at(a, k), at(c, k));
                    _mm512_add_epi16(_mm512_add_epi16(outer, at(b, k)), half)
                };
                let even = _mm512_srli_epi16::<8>(sum(0));
                let v = _mm512_ternarylogic_epi32::<0xf8>(even, sum(32), high);
                if i + BLOCK <= n {
                    _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), v);
                } else {
                    let mask = (1u64 << (n - i)) - 1;
                    _mm512_mask_storeu_epi8(out.as_mut_ptr().add(i).cast(), mask, v);
                }
            }
        }
    }
}

/// The pixels of a 3x3 block at either end of a row: columns `x − 1 .. x + block + 1`
/// of `row` (at most 64 + 2), those outside the row through `edge` (−1 and `w`; columns
/// past `w` + 1 only feed sums past the row, never stored, and read 0).
#[cfg(target_arch = "x86_64")]
fn edge_block(row: &[u8], x: usize, block: usize, edge: &impl Fn(isize) -> u8) -> [u8; 128] {
    let w = row.len();
    let mut pixels = [0u8; 128];
    let (lo, hi) = (x.saturating_sub(1), (x + block + 1).min(w));
    let at = lo + 1 - x; // where column `lo` goes
    pixels[at..at + hi - lo].copy_from_slice(&row[lo..hi]);
    if x == 0 {
        pixels[0] = edge(-1);
    }
    if x + block + 1 > w {
        pixels[w + 1 - x] = edge(w as isize);
    }
    pixels
}

/// The AVX-512 3x3 pass (see `avx512::h_row3` and `avx512::v_row3`) on 256-bit
/// registers: 32-pixel blocks, the even and odd pixels merged by an and and an or.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Pixels per block of the 3x3 pass: one register of bytes.
    pub(super) const BLOCK: usize = 32;

    /// `avx512::h_block3` on a 32-pixel block: `p[0..34]` read, `out[0..32]` written.
    ///
    /// # Safety
    /// AVX2; `p` readable for 34 bytes, `out` writable for 32 words.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn h_block3(p: *const u8, out: *mut u16) {
        let pair = _mm256_set1_epi8(32);
        // SAFETY: the caller guarantees p[0..34] readable and out[0..32] writable.
        unsafe {
            let at = |k: usize| _mm256_maddubs_epi16(_mm256_loadu_si256(p.add(k).cast()), pair);
            let (left, centre, right) = (at(0), at(1), at(2));
            _mm256_storeu_si256(out.cast(), _mm256_add_epi16(left, centre));
            _mm256_storeu_si256(out.add(16).cast(), _mm256_add_epi16(centre, right));
        }
    }

    /// `avx512::h_row3` on 32-pixel blocks.
    #[target_feature(enable = "avx2")]
    pub(super) fn h_row3(row: &[u8], edge: impl Fn(isize) -> u8, out: &mut [u16]) {
        let w = row.len();
        assert!(
            w > 0 && out.len() == w.div_ceil(BLOCK) * BLOCK,
            "ring row size"
        );
        for (b, sums) in out.chunks_exact_mut(BLOCK).enumerate() {
            let x = b * BLOCK;
            if x >= 1 && x + BLOCK < w {
                // SAFETY: reads row[x − 1 .. x + 33], inside the row as x >= 1 and
                // x + 33 <= w; writes the 32 words of `sums`.
                unsafe { h_block3(row.as_ptr().add(x - 1), sums.as_mut_ptr()) };
                continue;
            }
            let pixels = super::edge_block(row, x, BLOCK, &edge);
            // SAFETY: `pixels` holds 128 >= 34 bytes; writes the 32 words of `sums`.
            unsafe { h_block3(pixels.as_ptr(), sums.as_mut_ptr()) };
        }
    }

    /// `avx512::v_row3` on 32-pixel blocks.
    #[target_feature(enable = "avx2")]
    pub(super) fn v_row3(a: &[u16], b: &[u16], c: &[u16], out: &mut [u8]) {
        let n = out.len();
        let len = n.div_ceil(BLOCK) * BLOCK;
        assert!(
            a.len() == len && b.len() == len && c.len() == len,
            "ring row size"
        );
        let half = _mm256_set1_epi16(128);
        let high = _mm256_set1_epi16(0xff00u16 as i16);
        for i in (0..len).step_by(BLOCK) {
            // SAFETY: reads a, b, c [i .. i + 32] (i + 32 <= len, their length).
            let v = unsafe {
                let at = |r: &[u16], k: usize| _mm256_loadu_si256(r.as_ptr().add(i + k).cast());
                let sum = |k: usize| {
                    let outer = _mm256_avg_epu16(at(a, k), at(c, k));
                    _mm256_add_epi16(_mm256_add_epi16(outer, at(b, k)), half)
                };
                let even = _mm256_srli_epi16::<8>(sum(0));
                _mm256_or_si256(even, _mm256_and_si256(sum(16), high))
            };
            if i + BLOCK <= n {
                // SAFETY: writes out[i .. i + 32], i + 32 <= n.
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), v) };
            } else {
                let mut last = [0u8; BLOCK];
                // SAFETY: writes the 32 bytes of `last`.
                unsafe { _mm256_storeu_si256(last.as_mut_ptr().cast(), v) };
                out[i..].copy_from_slice(&last[..n - i]);
            }
        }
    }
}

/// The horizontal pass for `ORDER` taps at `level`.
fn hsum<const ORDER: usize>(level: SimdLevel, t: &[u16], out: &mut [u8]) {
    let done = match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
            // SAFETY: the guard just checked that the CPU has AVX-512 F and BW.
            unsafe { avx512::hsum::<ORDER>(t, out) }
        }
        _ => 0,
    };
    let (t, out) = (&t[done..], &mut out[done..]);
    if ORDER == 3 {
        hsum3_auto(level, t, out)
    } else {
        hsum5_auto(level, t, out)
    }
}

/// Which hand-written 3x3 pass runs (see the module notes); x86 only.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wide {
    Avx512,
    Avx2,
}

/// Per-band scratch: the padded u16 row, and a row of the constant border value.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    sums: Vec<u16>,
    constant: Vec<u8>,
    /// The 3x3 pass on AVX-512 or AVX2: three rows of horizontal sums in blocks (64 or
    /// 32 pixels), row `y` in slot `y mod 3`.
    ring: Vec<u16>,
}

/// Pads a row of vertical sums (`r` columns each side) by the border, then runs the
/// horizontal pass into `out`.
fn finish_row(
    level: SimdLevel,
    order: usize,
    border: Border,
    constant: u8,
    sums: &mut [u16],
    out: &mut [u8],
) {
    let r = order / 2;
    let w = out.len();
    // Outside columns read the border: a column of the constant sums to
    // (Σ taps)·constant; the others repeat or mirror the sums already made.
    let weight = if order == 3 { 4 } else { 16 };
    for j in 1..=r as isize {
        let (left, right) = (-j, w as isize - 1 + j);
        for x in [left, right] {
            sums[(r as isize + x) as usize] = match border.map(x, w) {
                Some(xx) => sums[r + xx],
                None => weight * u16::from(constant),
            };
        }
    }
    match order {
        3 => hsum::<3>(level, sums, out),
        _ => hsum::<5>(level, sums, out),
    }
}

/// Blurs `src` into `dst` with the binomial kernel of `order` (3 or 5) on both axes.
pub(super) fn blur(
    level: SimdLevel,
    order: usize,
    border: Border,
    constant: u8,
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    scratch: &mut Vec<Scratch>,
) {
    let (w, h) = src.size();
    let r = order / 2;
    // The 3x3 kernel's horizontal-first pass where the level has one, and its block.
    let pass: Option<(Wide, usize)> = match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
            Some((Wide::Avx512, avx512::BLOCK))
        }
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 if SimdLevel::Avx2.is_supported() => Some((Wide::Avx2, avx2::BLOCK)),
        _ => None,
    }
    .filter(|_| order == 3);
    let ring_row = pass.map(|(_, b)| w.div_ceil(b) * b);
    let band_rows = parallel::bands_with_scratch(w, h, scratch);
    for s in scratch.iter_mut() {
        s.sums.resize(w + 2 * r, 0);
        s.constant.resize(w, constant);
        s.constant.fill(constant);
        // 32 words more, to start the slots on a cache line.
        s.ring.resize(ring_row.map_or(0, |len| 3 * len + 32), 0);
    }
    parallel::for_each_band_with_scratch(dst.reborrow(), band_rows, scratch, &|y0, mut band, s| {
        let Scratch {
            sums,
            constant: constant_row,
            ring,
        } = s;
        // Source row `y`, through the border (the constant row outside).
        let row = |y: isize| match border.map(y, h) {
            Some(yy) => src.row(yy),
            None => &constant_row[..],
        };
        #[cfg(target_arch = "x86_64")]
        if let Some(len) = ring_row {
            let start = ring.as_ptr().align_offset(64).min(32);
            let ring = &mut ring[start..][..3 * len];
            // Horizontal sums first, each source row's once into the ring.
            let horizontal = |y: isize, ring: &mut [u16]| {
                let slot = y.rem_euclid(3) as usize * len;
                let pixels = row(y);
                let edge = |x: isize| border.map(x, w).map_or(constant, |xx| pixels[xx]);
                let out = &mut ring[slot..slot + len];
                // SAFETY: `pass` (so `ring_row`) is Some only for a level the CPU has.
                match pass {
                    Some((Wide::Avx512, _)) => unsafe { avx512::h_row3(pixels, edge, out) },
                    _ => unsafe { avx2::h_row3(pixels, edge, out) },
                }
            };
            let y0 = y0 as isize;
            horizontal(y0 - 1, ring);
            horizontal(y0, ring);
            for i in 0..band.height() {
                let y = y0 + i as isize;
                horizontal(y + 1, ring);
                let slot = |y: isize| &ring[y.rem_euclid(3) as usize * len..][..len];
                let (a, b, c, out) = (slot(y - 1), slot(y), slot(y + 1), band.row_mut(i));
                // SAFETY: as above.
                match pass {
                    Some((Wide::Avx512, _)) => unsafe { avx512::v_row3(a, b, c, out) },
                    _ => unsafe { avx2::v_row3(a, b, c, out) },
                }
            }
            return;
        }
        let _ = ring;
        for i in 0..band.height() {
            let y = (y0 + i) as isize;
            let s0 = &mut sums[r..r + w];
            match order {
                3 => vsum3(level, row(y - 1), row(y), row(y + 1), s0),
                _ => vsum5(
                    level,
                    row(y - 2),
                    row(y - 1),
                    row(y),
                    row(y + 1),
                    row(y + 2),
                    s0,
                ),
            }
            finish_row(level, order, border, constant, sums, band.row_mut(i));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Image;
    use crate::testing::random_u8;

    /// The 2-D sum with the same taps and borders, one pixel at a time.
    fn reference(order: usize, border: Border, c: u8, src: &Image<u8>) -> Image<u8> {
        let taps: &[u32] = if order == 3 {
            &[1, 2, 1]
        } else {
            &[1, 4, 6, 4, 1]
        };
        let shift = if order == 3 { 4 } else { 8 };
        let (w, h) = src.size();
        let r = (order / 2) as isize;
        Image::from_fn(w, h, |x, y| {
            let mut s = 0u32;
            for (j, &ty) in taps.iter().enumerate() {
                for (i, &tx) in taps.iter().enumerate() {
                    let yy = border.map(y as isize + j as isize - r, h);
                    let xx = border.map(x as isize + i as isize - r, w);
                    let v = match (xx, yy) {
                        (Some(xx), Some(yy)) => src.row(yy)[xx],
                        _ => c,
                    };
                    s += tx * ty * u32::from(v);
                }
            }
            ((s + (1 << (shift - 1))) >> shift) as u8
        })
        .unwrap()
    }

    #[test]
    fn exact_on_every_level_border_and_shape() {
        for order in [3, 5] {
            for border in [
                Border::Reflect101,
                Border::Replicate,
                Border::Constant(77.0),
            ] {
                for (w, h) in [
                    (1, 1),
                    (1, 7),
                    (7, 1),
                    (2, 3),
                    (31, 3),
                    (32, 2),
                    (33, 5),
                    (34, 3),
                    (63, 2),
                    (64, 3),
                    (65, 1),
                    (66, 4),
                    (70, 9),
                    (127, 2),
                    (128, 3),
                    (129, 4),
                    (130, 2),
                    (257, 5),
                ] {
                    let src = random_u8(w, h, (w * 31 + h) as u64).unwrap();
                    let want = reference(order, border, 77, &src);
                    for level in SimdLevel::supported() {
                        let mut out = Image::<u8>::new(w, h).unwrap();
                        let mut scratch = Vec::new();
                        blur(
                            level,
                            order,
                            border,
                            77,
                            &src.as_view(),
                            &mut out.as_view_mut(),
                            &mut scratch,
                        );
                        assert_eq!(out, want, "{order} {border:?} {w}x{h} {level}");
                    }
                }
            }
        }
    }

    #[test]
    fn recognizes_only_exact_binomials() {
        assert_eq!(order_of(&[0.25, 0.5, 0.25]), Some(3));
        assert_eq!(order_of(&[0.0625, 0.25, 0.375, 0.25, 0.0625]), Some(5));
        assert_eq!(order_of(&[0.25, 0.5, 0.2500001]), None);
        assert_eq!(order_of(&[1.0]), None);
    }
}
