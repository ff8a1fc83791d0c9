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

/// Per-band scratch: the padded u16 row, and a row of the constant border value.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    sums: Vec<u16>,
    constant: Vec<u8>,
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
    let band_rows = parallel::bands_with_scratch(w, h, scratch);
    for s in scratch.iter_mut() {
        s.sums.resize(w + 2 * r, 0);
        s.constant.resize(w, constant);
        s.constant.fill(constant);
    }
    parallel::for_each_band_with_scratch(dst.reborrow(), band_rows, scratch, &|y0, mut band, s| {
        let Scratch {
            sums,
            constant: constant_row,
        } = s;
        // Source row `y`, through the border (the constant row outside).
        let row = |y: isize| match border.map(y, h) {
            Some(yy) => src.row(yy),
            None => &constant_row[..],
        };
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
                for (w, h) in [(1, 1), (1, 7), (7, 1), (2, 3), (33, 5), (70, 9), (129, 4)] {
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
