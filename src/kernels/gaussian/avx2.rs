//! AVX2 row passes. u8: `vpmaddwd` multiplies pairs of i16 taps and sums them exactly
//! into i32; interleaving two shifted loads with `vpunpck{l,h}wd` forms the pairs, and
//! `vpackssdw` undoes the interleave. f32: symmetric taps, one FMA per pair of pixels.

use std::arch::x86_64::*;

use super::scalar;

/// The pair `(q[j], q[j+1])` as one i32 lane pattern for `vpmaddwd`.
#[inline]
fn tap_pair(q: &[i16], j: usize) -> i32 {
    (i32::from(q[j + 1]) << 16) | i32::from(q[j] as u16)
}

#[target_feature(enable = "avx2,fma")]
pub fn h_row_u8(p: &[i16], q: &[i16], out: &mut [i16]) {
    const L: usize = 16;
    let n = out.len();
    assert!(
        q.len().is_multiple_of(2) && p.len() >= n + q.len() + L,
        "padded row too short"
    );
    let round = _mm256_set1_epi32(1 << 6);
    let mut i = 0;
    while i + L <= n {
        let (mut lo, mut hi) = (round, round);
        for j in (0..q.len()).step_by(2) {
            let c = _mm256_set1_epi32(tap_pair(q, j));
            // SAFETY: i + j + 1 + 16 <= n + q.len() <= p.len() (asserted above).
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(p.as_ptr().add(i + j).cast()),
                    _mm256_loadu_si256(p.as_ptr().add(i + j + 1).cast()),
                )
            };
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), c));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), c));
        }
        let v = _mm256_packs_epi32(_mm256_srai_epi32::<7>(lo), _mm256_srai_epi32::<7>(hi));
        // SAFETY: i + 16 <= n = out.len().
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), v) };
        i += L;
    }
    scalar::h_row_u8_from(p, q, out, i);
}

/// 16 output pixels of the vertical u8 pass, as i16 in order.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn v_block_u8(ring: &[i16], offsets: &[usize], q: &[i16], i: usize) -> __m256i {
    let round = _mm256_set1_epi32(1 << 20);
    let (mut lo, mut hi) = (round, round);
    for j in (0..q.len()).step_by(2) {
        let c = _mm256_set1_epi32(tap_pair(q, j));
        // SAFETY: the caller checked offsets[j] + i + 16 <= ring.len() for every j.
        let (a, b) = unsafe {
            (
                _mm256_loadu_si256(ring.as_ptr().add(offsets[j] + i).cast()),
                _mm256_loadu_si256(ring.as_ptr().add(offsets[j + 1] + i).cast()),
            )
        };
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), c));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), c));
    }
    _mm256_packs_epi32(_mm256_srai_epi32::<21>(lo), _mm256_srai_epi32::<21>(hi))
}

#[target_feature(enable = "avx2,fma")]
pub fn v_row_u8(ring: &[i16], offsets: &[usize], q: &[i16], out: &mut [u8]) {
    const L: usize = 32;
    let n = out.len();
    assert!(
        q.len().is_multiple_of(2) && offsets.len() == q.len(),
        "taps and rows differ"
    );
    let full = n / L * L;
    super::check_ring_rows(ring, offsets, full);
    let mut i = 0;
    while i + L <= n {
        let x = v_block_u8(ring, offsets, q, i);
        let y = v_block_u8(ring, offsets, q, i + 16);
        // packus interleaves 128-bit halves; the permute puts the 8-byte groups back.
        let v = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(x, y));
        // SAFETY: i + 32 <= n = out.len().
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), v) };
        i += L;
    }
    scalar::v_row_u8_from(ring, offsets, q, out, i);
}

#[target_feature(enable = "avx2,fma")]
pub fn h_row_f32(p: &[f32], c: &[f32], out: &mut [f32]) {
    const L: usize = 8;
    let n = out.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && p.len() >= n + 2 * r,
        "padded row too short"
    );
    let mut i = 0;
    // Four output vectors per step share each tap's broadcast (the same operations in
    // the same order per output as the one-vector loop below).
    while i + 4 * L <= n {
        // SAFETY: every load reads p[i ..= i + 2r + 31] and i + 32 <= n, so the last index
        // is < n + 2r <= p.len(); the stores write out[i .. i + 32].
        unsafe {
            let at = |k: usize| _mm256_loadu_ps(p.as_ptr().add(i + k));
            let centre = _mm256_set1_ps(c[r]);
            let mut acc: [__m256; 4] =
                std::array::from_fn(|v| _mm256_mul_ps(centre, at(v * L + r)));
            for j in 0..r {
                let cj = _mm256_set1_ps(c[j]);
                for (v, a) in acc.iter_mut().enumerate() {
                    let pair = _mm256_add_ps(at(v * L + j), at(v * L + 2 * r - j));
                    *a = _mm256_fmadd_ps(cj, pair, *a);
                }
            }
            for (v, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(out.as_mut_ptr().add(i + v * L), *a);
            }
        }
        i += 4 * L;
    }
    while i + L <= n {
        // SAFETY: every load reads p[i + 0 ..= i + 2r + 7] and i + 8 <= n, so the last
        // index is < n + 2r <= p.len().
        unsafe {
            let at = |k: usize| _mm256_loadu_ps(p.as_ptr().add(i + k));
            let mut acc = _mm256_mul_ps(_mm256_set1_ps(c[r]), at(r));
            for j in 0..r {
                acc = _mm256_fmadd_ps(
                    _mm256_set1_ps(c[j]),
                    _mm256_add_ps(at(j), at(2 * r - j)),
                    acc,
                );
            }
            _mm256_storeu_ps(out.as_mut_ptr().add(i), acc);
        }
        i += L;
    }
    scalar::h_row_f32_from(p, c, out, i);
}

/// [`h_row_f32`] on each of eight rows.
#[target_feature(enable = "avx2,fma")]
pub fn h_rows_f32_8(p: [&[f32]; 8], c: &[f32], out: [&mut [f32]; 8], _columns: &mut [f32]) {
    for (p, o) in p.into_iter().zip(out) {
        h_row_f32(p, c, o);
    }
}

#[target_feature(enable = "avx2,fma")]
pub fn v_row_f32(ring: &[f32], offsets: &[usize], c: &[f32], out: &mut [f32]) {
    const L: usize = 8;
    let n = out.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && offsets.len() == c.len(),
        "taps and rows differ"
    );
    super::check_ring_rows(ring, offsets, n);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: offsets[j] + i + 8 <= offsets[j] + n <= ring.len() (asserted).
        unsafe {
            let at = |k: usize| _mm256_loadu_ps(ring.as_ptr().add(offsets[k] + i));
            let mut acc = _mm256_mul_ps(_mm256_set1_ps(c[r]), at(r));
            for j in 0..r {
                acc = _mm256_fmadd_ps(
                    _mm256_set1_ps(c[j]),
                    _mm256_add_ps(at(j), at(2 * r - j)),
                    acc,
                );
            }
            _mm256_storeu_ps(out.as_mut_ptr().add(i), acc);
        }
        i += L;
    }
    scalar::v_row_f32_from(ring, offsets, c, out, i);
}

/// [`scalar::v_row_f32_8`]: two four-row passes (`ahead` is not prefetched here).
#[target_feature(enable = "avx2,fma")]
pub fn v_row_f32_8(
    ring: &[f32],
    offsets: &[usize],
    _ahead: &[usize],
    c: &[f32],
    out: [&mut [f32]; 8],
) {
    let [a, b, d, e, f, g, h, i] = out;
    v_row_f32_4(ring, &offsets[..c.len() + 3], c, [a, b, d, e]);
    v_row_f32_4(ring, &offsets[4..], c, [f, g, h, i]);
}

/// [`scalar::v_row_f32_4`]: two two-row passes. Four rows of accumulators, their ring
/// vectors and the taps do not fit AVX2's 16 registers.
#[target_feature(enable = "avx2,fma")]
pub fn v_row_f32_4(ring: &[f32], offsets: &[usize], c: &[f32], out: [&mut [f32]; 4]) {
    let [a, b, d, e] = out;
    v_row_f32_2(ring, &offsets[..c.len() + 1], c, a, b);
    v_row_f32_2(ring, &offsets[2..], c, d, e);
}

/// [`scalar::v_row_f32_2`]: each ring row loaded once for both output rows; per row
/// the same operations in the same order as [`v_row_f32`], so the same bits.
#[target_feature(enable = "avx2,fma")]
pub fn v_row_f32_2(ring: &[f32], offsets: &[usize], c: &[f32], a: &mut [f32], b: &mut [f32]) {
    const L: usize = 8;
    let n = a.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && offsets.len() == c.len() + 1 && b.len() == n,
        "taps and rows differ"
    );
    super::check_ring_rows(ring, offsets, n);
    let mut i = 0;
    // Two column vectors per step share each tap's broadcast and row offset (the same
    // operations in the same order per output as the one-vector loop below).
    while i + 2 * L <= n {
        // SAFETY: offsets[j] + i + 16 <= offsets[j] + n <= ring.len() (asserted); the
        // stores write a[i..i + 16] and b[i..i + 16] with i + 16 <= n.
        unsafe {
            let at = |k: usize, h: usize| _mm256_loadu_ps(ring.as_ptr().add(offsets[k] + i + h));
            let centre = _mm256_set1_ps(c[r]);
            let mut acc_a = [0, L].map(|h| _mm256_mul_ps(centre, at(r, h)));
            let mut acc_b = [0, L].map(|h| _mm256_mul_ps(centre, at(r + 1, h)));
            let mut a_lo = [0, L].map(|h| at(0, h));
            let mut b_hi = [0, L].map(|h| at(2 * r + 1, h));
            for j in 0..r {
                let cj = _mm256_set1_ps(c[j]);
                for (v, h) in [0, L].into_iter().enumerate() {
                    let (a_hi, b_lo) = (at(2 * r - j, h), at(j + 1, h));
                    acc_a[v] = _mm256_fmadd_ps(cj, _mm256_add_ps(a_lo[v], a_hi), acc_a[v]);
                    acc_b[v] = _mm256_fmadd_ps(cj, _mm256_add_ps(b_lo, b_hi[v]), acc_b[v]);
                    (a_lo[v], b_hi[v]) = (b_lo, a_hi);
                }
            }
            for (v, h) in [0, L].into_iter().enumerate() {
                _mm256_storeu_ps(a.as_mut_ptr().add(i + h), acc_a[v]);
                _mm256_storeu_ps(b.as_mut_ptr().add(i + h), acc_b[v]);
            }
        }
        i += 2 * L;
    }
    while i + L <= n {
        // SAFETY: offsets[j] + i + 8 <= offsets[j] + n <= ring.len() (asserted); the
        // stores write a[i..i + 8] and b[i..i + 8] with i + 8 <= n.
        unsafe {
            let at = |k: usize| _mm256_loadu_ps(ring.as_ptr().add(offsets[k] + i));
            let mut acc_a = _mm256_mul_ps(_mm256_set1_ps(c[r]), at(r));
            let mut acc_b = _mm256_mul_ps(_mm256_set1_ps(c[r]), at(r + 1));
            // a sums rows (j, 2r - j), b rows (j + 1, 2r + 1 - j), outermost first.
            let (mut a_lo, mut b_hi) = (at(0), at(2 * r + 1));
            for j in 0..r {
                let (a_hi, b_lo) = (at(2 * r - j), at(j + 1));
                let cj = _mm256_set1_ps(c[j]);
                acc_a = _mm256_fmadd_ps(cj, _mm256_add_ps(a_lo, a_hi), acc_a);
                acc_b = _mm256_fmadd_ps(cj, _mm256_add_ps(b_lo, b_hi), acc_b);
                (a_lo, b_hi) = (b_lo, a_hi);
            }
            _mm256_storeu_ps(a.as_mut_ptr().add(i), acc_a);
            _mm256_storeu_ps(b.as_mut_ptr().add(i), acc_b);
        }
        i += L;
    }
    scalar::v_row_f32_from(ring, &offsets[..c.len()], c, a, i);
    scalar::v_row_f32_from(ring, &offsets[1..], c, b, i);
}

#[target_feature(enable = "avx2,fma")]
pub fn h_row_u8_fast(p: &[u8], t: &[i16], out: &mut [i16]) {
    super::with_radius!(t.len() - 1, R => h_fast::<R>(p, t, out))
}

/// The fast horizontal pass for radius `R`, unrolled; pixels widened to Q6 as loaded.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn h_fast<const R: usize>(p: &[u8], t: &[i16], out: &mut [i16]) {
    const L: usize = 16;
    let n = out.len();
    assert!(
        t.len() == R + 1 && p.len() >= n + 2 * R,
        "padded row too short"
    );
    let mut taps = [_mm256_setzero_si256(); 16];
    for d in 0..=R {
        taps[d] = _mm256_set1_epi16(t[d]);
    }
    let mut i = 0;
    while i + L <= n {
        // SAFETY: loads read p[i ..= i + 2R + 15] with i + 16 <= n: below n + 2R <= p.len().
        unsafe {
            let at = |k: usize| _mm256_cvtepu8_epi16(_mm_loadu_si128(p.as_ptr().add(i + k).cast()));
            let mut acc = _mm256_mulhrs_epi16(_mm256_slli_epi16::<6>(at(R)), taps[0]);
            super::for_taps!(R, d => {
                let pair = _mm256_slli_epi16::<6>(_mm256_add_epi16(at(R - d), at(R + d)));
                acc = _mm256_add_epi16(acc, _mm256_mulhrs_epi16(pair, taps[d]));
            });
            _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), acc);
        }
        i += L;
    }
    scalar::h_row_u8_fast_from(p, t, out, i);
}

#[target_feature(enable = "avx2,fma")]
pub fn v_row_u8_fast(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    super::with_radius!(t.len() - 1, R => v_fast::<R>(ring, offsets, t, out))
}

/// The fast vertical pass for radius `R`, unrolled.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn v_fast<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    const L: usize = 32;
    let n = out.len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 1,
        "taps and rows differ"
    );
    let full = n / L * L;
    let mut taps = [_mm256_setzero_si256(); 16];
    for d in 0..=R {
        taps[d] = _mm256_set1_epi16(t[d]);
    }
    let rows: [*const i16; 31] = super::ring_row_ptrs(ring, offsets, full);
    let half = _mm256_set1_epi16(32);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 32 <= ring start + offsets[k] + full <= ring end (asserted).
        let v = unsafe {
            // Both halves in one unrolled body: two independent chains, and no closure
            // too large to inline.
            let at = |k: usize, h: usize| _mm256_loadu_si256(rows[k].add(i + h).cast());
            let mut acc0 = _mm256_mulhrs_epi16(at(R, 0), taps[0]);
            let mut acc1 = _mm256_mulhrs_epi16(at(R, 16), taps[0]);
            super::for_taps!(R, d => {
                let pair0 = _mm256_add_epi16(at(R - d, 0), at(R + d, 0));
                let pair1 = _mm256_add_epi16(at(R - d, 16), at(R + d, 16));
                acc0 = _mm256_add_epi16(acc0, _mm256_mulhrs_epi16(pair0, taps[d]));
                acc1 = _mm256_add_epi16(acc1, _mm256_mulhrs_epi16(pair1, taps[d]));
            });
            let x = _mm256_srai_epi16::<6>(_mm256_add_epi16(acc0, half));
            let y = _mm256_srai_epi16::<6>(_mm256_add_epi16(acc1, half));
            _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(x, y))
        };
        // SAFETY: i + 32 <= n = out.len().
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), v) };
        i += L;
    }
    scalar::v_row_u8_fast_from(ring, offsets, t, out, i);
}

/// [`scalar::v_row_u8_fast4`]: two two-row passes (AVX2 has too few registers for four
/// rows of sums and the taps).
#[target_feature(enable = "avx2,fma")]
pub fn v_row_u8_fast4(ring: &[i16], offsets: &[usize], t: &[i16], out: [&mut [u8]; 4]) {
    let [a, b, d, e] = out;
    v_row_u8_fast2(ring, &offsets[..2 * t.len()], t, a, b);
    v_row_u8_fast2(ring, &offsets[2..], t, d, e);
}

#[target_feature(enable = "avx2,fma")]
pub fn v_row_u8_fast2(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    super::with_radius!(t.len() - 1, R => v_fast2::<R>(ring, offsets, t, a, b))
}

/// Two output rows of the fast vertical pass from `2R + 2` ring rows, each row loaded
/// once: `a` sums rows (R − d, R + d), `b` rows (R + 1 − d, R + 1 + d).
// The last unrolled step carries rows no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn v_fast2<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    const L: usize = 32;
    let n = a.len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 2 && b.len() == n,
        "taps and rows differ"
    );
    let full = n / L * L;
    let mut taps = [_mm256_setzero_si256(); 16];
    for d in 0..=R {
        taps[d] = _mm256_set1_epi16(t[d]);
    }
    let rows: [*const i16; 32] = super::ring_row_ptrs(ring, offsets, full);
    let half = _mm256_set1_epi16(32);
    let narrow = |x: __m256i, y: __m256i| {
        let x = _mm256_srai_epi16::<6>(_mm256_add_epi16(x, half));
        let y = _mm256_srai_epi16::<6>(_mm256_add_epi16(y, half));
        _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(x, y))
    };
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 32 <= ring start + offsets[k] + full <= ring end (asserted).
        let (va, vb) = unsafe {
            let at = |k: usize, h: usize| _mm256_loadu_si256(rows[k].add(i + h).cast());
            // lo: row R + 1 − d, b's upper row; hi: row R + d, a's lower row.
            let (mut lo0, mut lo1) = (at(R, 0), at(R, 16));
            let (mut hi0, mut hi1) = (at(R + 1, 0), at(R + 1, 16));
            let mut a0 = _mm256_mulhrs_epi16(lo0, taps[0]);
            let mut a1 = _mm256_mulhrs_epi16(lo1, taps[0]);
            let mut b0 = _mm256_mulhrs_epi16(hi0, taps[0]);
            let mut b1 = _mm256_mulhrs_epi16(hi1, taps[0]);
            super::for_taps!(R, d => {
                let (up0, up1) = (at(R - d, 0), at(R - d, 16));
                let (down0, down1) = (at(R + 1 + d, 0), at(R + 1 + d, 16));
                a0 = _mm256_add_epi16(a0, _mm256_mulhrs_epi16(_mm256_add_epi16(up0, hi0), taps[d]));
                a1 = _mm256_add_epi16(a1, _mm256_mulhrs_epi16(_mm256_add_epi16(up1, hi1), taps[d]));
                b0 = _mm256_add_epi16(b0, _mm256_mulhrs_epi16(_mm256_add_epi16(lo0, down0), taps[d]));
                b1 = _mm256_add_epi16(b1, _mm256_mulhrs_epi16(_mm256_add_epi16(lo1, down1), taps[d]));
                (lo0, lo1, hi0, hi1) = (up0, up1, down0, down1);
            });
            (narrow(a0, a1), narrow(b0, b1))
        };
        // SAFETY: i + 32 <= n = a.len() = b.len().
        unsafe {
            _mm256_storeu_si256(a.as_mut_ptr().add(i).cast(), va);
            _mm256_storeu_si256(b.as_mut_ptr().add(i).cast(), vb);
        }
        i += L;
    }
    scalar::v_row_u8_fast_from(ring, &offsets[..2 * R + 1], t, a, i);
    scalar::v_row_u8_fast_from(ring, &offsets[1..], t, b, i);
}
