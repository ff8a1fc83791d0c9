//! AVX-512 row passes: the AVX2 method on 512-bit registers (32 i16 or 16 f32 lanes).

use std::arch::x86_64::*;

use super::scalar;

#[inline]
fn tap_pair(q: &[i16], j: usize) -> i32 {
    (i32::from(q[j + 1]) << 16) | i32::from(q[j] as u16)
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn h_row_u8(p: &[i16], q: &[i16], out: &mut [i16]) {
    const L: usize = 32;
    let n = out.len();
    assert!(
        q.len().is_multiple_of(2) && p.len() >= n + q.len() + L,
        "padded row too short"
    );
    let round = _mm512_set1_epi32(1 << 6);
    let mut i = 0;
    while i + L <= n {
        let (mut lo, mut hi) = (round, round);
        for j in (0..q.len()).step_by(2) {
            let c = _mm512_set1_epi32(tap_pair(q, j));
            // SAFETY: i + j + 1 + 32 <= n + q.len() <= p.len() (asserted above).
            let (a, b) = unsafe {
                (
                    _mm512_loadu_si512(p.as_ptr().add(i + j).cast()),
                    _mm512_loadu_si512(p.as_ptr().add(i + j + 1).cast()),
                )
            };
            lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), c));
            hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), c));
        }
        let v = _mm512_packs_epi32(_mm512_srai_epi32::<7>(lo), _mm512_srai_epi32::<7>(hi));
        // SAFETY: i + 32 <= n = out.len().
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), v) };
        i += L;
    }
    scalar::h_row_u8_from(p, q, out, i);
}

/// 32 output pixels of the vertical u8 pass, as i16 in order.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn v_block_u8(ring: &[i16], offsets: &[usize], q: &[i16], i: usize) -> __m512i {
    let round = _mm512_set1_epi32(1 << 20);
    let (mut lo, mut hi) = (round, round);
    for j in (0..q.len()).step_by(2) {
        let c = _mm512_set1_epi32(tap_pair(q, j));
        // SAFETY: the caller checked offsets[j] + i + 32 <= ring.len() for every j.
        let (a, b) = unsafe {
            (
                _mm512_loadu_si512(ring.as_ptr().add(offsets[j] + i).cast()),
                _mm512_loadu_si512(ring.as_ptr().add(offsets[j + 1] + i).cast()),
            )
        };
        lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), c));
        hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), c));
    }
    _mm512_packs_epi32(_mm512_srai_epi32::<21>(lo), _mm512_srai_epi32::<21>(hi))
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_u8(ring: &[i16], offsets: &[usize], q: &[i16], out: &mut [u8]) {
    const L: usize = 64;
    let n = out.len();
    assert!(
        q.len().is_multiple_of(2) && offsets.len() == q.len(),
        "taps and rows differ"
    );
    let full = n / L * L;
    super::check_ring_rows(ring, offsets, full);
    // packus interleaves 128-bit blocks of its two inputs; this puts them back in order.
    let order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
    let mut i = 0;
    while i + L <= n {
        let x = v_block_u8(ring, offsets, q, i);
        let y = v_block_u8(ring, offsets, q, i + 32);
        let v = _mm512_permutexvar_epi64(order, _mm512_packus_epi16(x, y));
        // SAFETY: i + 64 <= n = out.len().
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), v) };
        i += L;
    }
    scalar::v_row_u8_from(ring, offsets, q, out, i);
}

/// The taps of a symmetric f32 kernel of radius `R` (at most 15) by distance from the
/// centre, each broadcast: `taps[d] = c[R − d]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn taps_by_distance<const R: usize>(c: &[f32]) -> [__m512; 16] {
    let mut taps = [_mm512_setzero_ps(); 16];
    for d in 0..=R {
        taps[d] = _mm512_set1_ps(c[R - d]);
    }
    taps
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn h_row_f32(p: &[f32], c: &[f32], out: &mut [f32]) {
    const L: usize = 16;
    let n = out.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && p.len() >= n + 2 * r,
        "padded row too short"
    );
    if r <= 15 {
        return super::with_radius!(r, R => h_f32_unrolled::<R>(p, c, out));
    }
    let mut i = 0;
    while i + L <= n {
        // SAFETY: loads read p[i ..= i + 2r + 15] with i + 16 <= n: below n + 2r <= p.len().
        unsafe {
            let at = |k: usize| _mm512_loadu_ps(p.as_ptr().add(i + k));
            let mut acc = _mm512_mul_ps(_mm512_set1_ps(c[r]), at(r));
            for j in 0..r {
                acc = _mm512_fmadd_ps(
                    _mm512_set1_ps(c[j]),
                    _mm512_add_ps(at(j), at(2 * r - j)),
                    acc,
                );
            }
            _mm512_storeu_ps(out.as_mut_ptr().add(i), acc);
        }
        i += L;
    }
    scalar::h_row_f32_from(p, c, out, i);
}

/// [`h_row_f32`] for radius `R` (at most 15), unrolled: the taps stay in registers. Of
/// the 2R + 1 shifted windows of an output vector, the lower of each symmetric pair is
/// cut from loaded vectors with `valignd`, the upper one loaded (a load at a float
/// offset straddles two cache lines: 31 of them per vector made the pass load-bound,
/// while 30 `valignd` crowd the adds' pipes). The same operations in the same order per
/// output as the general loop (same bits).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn h_f32_unrolled<const R: usize>(p: &[f32], c: &[f32], out: &mut [f32]) {
    const L: usize = 16;
    let n = out.len();
    assert!(
        c.len() == 2 * R + 1 && p.len() >= n + 2 * R,
        "padded row too short"
    );
    let taps = taps_by_distance::<R>(c);
    let mut i = 0;
    // An output vector's windows reach p[i + 2R + 15] < p[i + 48]: three loaded vectors,
    // or two while 2R + 15 < 32. Two output vectors per step (two independent chains of
    // multiply-adds) share all but one of them.
    let loaded = if 2 * R + L < 2 * L { 3 * L } else { 4 * L };
    while i + 2 * L <= n && i + loaded <= p.len() {
        // SAFETY: the loads read p[i .. i + loaded] with i + loaded <= p.len(); the
        // stores write out[i .. i + 32] with i + 32 <= n.
        unsafe {
            let load = |k: usize| _mm512_loadu_si512(p.as_ptr().add(i + k).cast());
            let v = if loaded == 4 * L {
                [load(0), load(L), load(2 * L), load(3 * L)]
            } else {
                [load(0), load(L), load(2 * L), _mm512_setzero_si512()]
            };
            let (va, vb) = ([v[0], v[1], v[2]], [v[1], v[2], v[3]]);
            let mut a = _mm512_mul_ps(taps[0], window(R, &va));
            let mut b = _mm512_mul_ps(taps[0], window(R, &vb));
            // Outermost pair first (j = R − d from 0 up), as the general loop.
            super::for_taps!(R, e => {
                let d = R + 1 - e;
                // The lower window cut, the upper one loaded: `valignd` shares the
                // adds' pipes, so half of each (8% faster at 31x31 than all cut).
                let upper = |k: usize| _mm512_loadu_ps(p.as_ptr().add(i + k));
                let pair_a = _mm512_add_ps(window(R - d, &va), upper(R + d));
                let pair_b = _mm512_add_ps(window(R - d, &vb), upper(L + R + d));
                a = _mm512_fmadd_ps(taps[d], pair_a, a);
                b = _mm512_fmadd_ps(taps[d], pair_b, b);
            });
            _mm512_storeu_ps(out.as_mut_ptr().add(i), a);
            _mm512_storeu_ps(out.as_mut_ptr().add(i + L), b);
        }
        i += 2 * L;
    }
    while i + L <= n {
        // SAFETY: loads read p[i ..= i + 2R + 15] with i + 16 <= n: below n + 2R <= p.len().
        unsafe {
            let at = |k: usize| _mm512_loadu_ps(p.as_ptr().add(i + k));
            let mut a = _mm512_mul_ps(taps[0], at(R));
            super::for_taps!(R, e => {
                let d = R + 1 - e;
                a = _mm512_fmadd_ps(taps[d], _mm512_add_ps(at(R - d), at(R + d)), a);
            });
            _mm512_storeu_ps(out.as_mut_ptr().add(i), a);
        }
        i += L;
    }
    scalar::h_row_f32_from(p, c, out, i);
}

/// Floats `k .. k + 16` (k <= 32) of the 48 in `v`, as one vector. `k` is a constant
/// wherever this is inlined into an unrolled pass, so the match folds to one `valignd`.
#[inline(always)]
fn window(k: usize, v: &[__m512i; 3]) -> __m512 {
    let (lo, hi, s) = if k < 16 {
        (v[0], v[1], k)
    } else {
        (v[1], v[2], k - 16)
    };
    // SAFETY: AVX-512F is enabled in every caller (`target_feature` on the unrolled pass).
    let w = unsafe {
        match s {
            0 => lo,
            1 => _mm512_alignr_epi32::<1>(hi, lo),
            2 => _mm512_alignr_epi32::<2>(hi, lo),
            3 => _mm512_alignr_epi32::<3>(hi, lo),
            4 => _mm512_alignr_epi32::<4>(hi, lo),
            5 => _mm512_alignr_epi32::<5>(hi, lo),
            6 => _mm512_alignr_epi32::<6>(hi, lo),
            7 => _mm512_alignr_epi32::<7>(hi, lo),
            8 => _mm512_alignr_epi32::<8>(hi, lo),
            9 => _mm512_alignr_epi32::<9>(hi, lo),
            10 => _mm512_alignr_epi32::<10>(hi, lo),
            11 => _mm512_alignr_epi32::<11>(hi, lo),
            12 => _mm512_alignr_epi32::<12>(hi, lo),
            13 => _mm512_alignr_epi32::<13>(hi, lo),
            14 => _mm512_alignr_epi32::<14>(hi, lo),
            _ => _mm512_alignr_epi32::<15>(hi, lo),
        }
    };
    // SAFETY: as above.
    unsafe { _mm512_castsi512_ps(w) }
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_f32(ring: &[f32], offsets: &[usize], c: &[f32], out: &mut [f32]) {
    const L: usize = 16;
    let n = out.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && offsets.len() == c.len(),
        "taps and rows differ"
    );
    super::check_ring_rows(ring, offsets, n);
    if n < L {
        return scalar::v_row_f32_from(ring, offsets, c, out, 0);
    }
    // The last vector ends at n, overlapping the one before: every column is computed by
    // the vector code, as in the two- and four-row passes (the same bits whichever pass
    // a row falls to, so bands of any height give the same image).
    for start in (0..n).step_by(L) {
        let i = start.min(n - L);
        // SAFETY: offsets[j] + i + 16 <= offsets[j] + n <= ring.len() (asserted).
        unsafe {
            let at = |k: usize| _mm512_loadu_ps(ring.as_ptr().add(offsets[k] + i));
            let mut acc = _mm512_mul_ps(_mm512_set1_ps(c[r]), at(r));
            for j in 0..r {
                acc = _mm512_fmadd_ps(
                    _mm512_set1_ps(c[j]),
                    _mm512_add_ps(at(j), at(2 * r - j)),
                    acc,
                );
            }
            _mm512_storeu_ps(out.as_mut_ptr().add(i), acc);
        }
    }
}

/// [`scalar::v_row_f32_2`]: each ring row loaded once for both output rows; per row
/// the same operations in the same order as [`v_row_f32`], so the same bits.
#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_f32_2(ring: &[f32], offsets: &[usize], c: &[f32], a: &mut [f32], b: &mut [f32]) {
    const L: usize = 16;
    let n = a.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && offsets.len() == c.len() + 1 && b.len() == n,
        "taps and rows differ"
    );
    if r <= 15 {
        return super::with_radius!(r, R => v_f32_2_unrolled::<R>(ring, offsets, c, a, b));
    }
    super::check_ring_rows(ring, offsets, n);
    if n < L {
        scalar::v_row_f32_from(ring, &offsets[..c.len()], c, a, 0);
        scalar::v_row_f32_from(ring, &offsets[1..], c, b, 0);
        return;
    }
    // The last vector ends at n, overlapping the one before (as the one-row pass).
    for start in (0..n).step_by(L) {
        let i = start.min(n - L);
        // SAFETY: offsets[j] + i + 16 <= offsets[j] + n <= ring.len() (asserted); the
        // stores write a[i..i + 16] and b[i..i + 16] with i + 16 <= n.
        unsafe {
            let at = |k: usize| _mm512_loadu_ps(ring.as_ptr().add(offsets[k] + i));
            let mut acc_a = _mm512_mul_ps(_mm512_set1_ps(c[r]), at(r));
            let mut acc_b = _mm512_mul_ps(_mm512_set1_ps(c[r]), at(r + 1));
            // Outermost pairs first, as the one-row pass: a sums rows (j, 2r - j), b rows
            // (j + 1, 2r + 1 - j); a's upper row is b's upper row of the step before, b's
            // lower row is a's lower row of the step after.
            let (mut a_lo, mut b_hi) = (at(0), at(2 * r + 1));
            for j in 0..r {
                let (a_hi, b_lo) = (at(2 * r - j), at(j + 1));
                let cj = _mm512_set1_ps(c[j]);
                acc_a = _mm512_fmadd_ps(cj, _mm512_add_ps(a_lo, a_hi), acc_a);
                acc_b = _mm512_fmadd_ps(cj, _mm512_add_ps(b_lo, b_hi), acc_b);
                (a_lo, b_hi) = (b_lo, a_hi);
            }
            _mm512_storeu_ps(a.as_mut_ptr().add(i), acc_a);
            _mm512_storeu_ps(b.as_mut_ptr().add(i), acc_b);
        }
    }
}

/// [`v_row_f32_2`] for radius `R` (at most 15), unrolled: taps in registers, row
/// pointers computed once. Same operations in the same order per output (same bits).
// The last unrolled step carries rows no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn v_f32_2_unrolled<const R: usize>(
    ring: &[f32],
    offsets: &[usize],
    c: &[f32],
    a: &mut [f32],
    b: &mut [f32],
) {
    const L: usize = 16;
    let n = a.len();
    // The caller asserted the taps and the rows; `ring_row_ptrs` checks their lengths.
    let taps = taps_by_distance::<R>(c);
    let rows: [*const f32; 32] = super::ring_row_ptrs(ring, offsets, n);
    if n < L {
        scalar::v_row_f32_from(ring, &offsets[..2 * R + 1], c, a, 0);
        scalar::v_row_f32_from(ring, &offsets[1..], c, b, 0);
        return;
    }
    // The last vector ends at n, overlapping the one before (same bits, no scalar tail).
    for start in (0..n).step_by(L) {
        let i = start.min(n - L);
        // SAFETY: rows[k] + i + 16 <= ring start + offsets[k] + n <= ring end (asserted by
        // `ring_row_ptrs`); the stores write a[i..i + 16] and b[i..i + 16] with i + 16 <= n.
        unsafe {
            let at = |k: usize| _mm512_loadu_ps(rows[k].add(i));
            let mut acc_a = _mm512_mul_ps(taps[0], at(R));
            let mut acc_b = _mm512_mul_ps(taps[0], at(R + 1));
            // Outermost pairs first: a sums rows (R − d, R + d), b rows (R + 1 − d,
            // R + 1 + d); a's upper row is b's of the step before, b's lower row a's of the
            // step after.
            let (mut a_lo, mut b_hi) = (at(0), at(2 * R + 1));
            super::for_taps!(R, e => {
                let d = R + 1 - e;
                let (a_hi, b_lo) = (at(R + d), at(R + 1 - d));
                acc_a = _mm512_fmadd_ps(taps[d], _mm512_add_ps(a_lo, a_hi), acc_a);
                acc_b = _mm512_fmadd_ps(taps[d], _mm512_add_ps(b_lo, b_hi), acc_b);
                (a_lo, b_hi) = (b_lo, a_hi);
            });
            _mm512_storeu_ps(a.as_mut_ptr().add(i), acc_a);
            _mm512_storeu_ps(b.as_mut_ptr().add(i), acc_b);
        }
    }
}

/// [`scalar::v_row_f32_4`]: four output rows from `2r + 4` ring rows, each row loaded
/// once for all four. The vertical pass is bound by reading the ring from L2 (64 bytes
/// per output pixel with two rows at a time, 34 with four); per row the same operations
/// in the same order as [`v_row_f32`], so the same bits.
#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_f32_4(ring: &[f32], offsets: &[usize], c: &[f32], out: [&mut [f32]; 4]) {
    let n = out[0].len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2)
            && offsets.len() == c.len() + 3
            && out.iter().all(|o| o.len() == n),
        "taps and rows differ"
    );
    if r <= 15 {
        return super::with_radius!(r, R => v_f32_rows_unrolled::<R, 4>(ring, offsets, &[], c, out));
    }
    let [a, b, d, e] = out;
    v_row_f32_2(ring, &offsets[..c.len() + 1], c, a, b);
    v_row_f32_2(ring, &offsets[2..], c, d, e);
}

/// [`scalar::v_row_f32_8`]: eight output rows from `2r + 8` rows, each row loaded once
/// for all eight: 38 row loads make eight rows of a 31-tap kernel, where the four-row
/// pass reads 34 for four, so the pass reads half as much from L2. Per row the same
/// operations in the same order as [`v_row_f32`], so the same bits. Each step asks for
/// the `ahead` rows' vector under it into L2: the next step's new rows come from memory
/// otherwise, one line at a time as the loads miss.
#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_f32_8(
    ring: &[f32],
    offsets: &[usize],
    ahead: &[usize],
    c: &[f32],
    out: [&mut [f32]; 8],
) {
    let n = out[0].len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2)
            && offsets.len() == c.len() + 7
            && out.iter().all(|o| o.len() == n),
        "taps and rows differ"
    );
    if r <= 15 {
        return super::with_radius!(r, R => v_f32_rows_unrolled::<R, 8>(ring, offsets, ahead, c, out));
    }
    let [a, b, d, e, f, g, h, i] = out;
    v_row_f32_4(ring, &offsets[..c.len() + 3], c, [a, b, d, e]);
    v_row_f32_4(ring, &offsets[4..], c, [f, g, h, i]);
}

/// [`v_row_f32_4`] and [`v_row_f32_8`] for radius `R` (at most 15) and `N` output rows,
/// unrolled. Output row `m` sums rows (R + m − d, R + m + d), outermost first; each step
/// loads one new lower and one new upper row and passes the other 2N − 2 on. With eight
/// accumulators and sixteen carried rows too few registers are left for the taps, which
/// are read from memory, one broadcast per step.
// The last unrolled step carries rows no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn v_f32_rows_unrolled<const R: usize, const N: usize>(
    ring: &[f32],
    offsets: &[usize],
    ahead: &[usize],
    c: &[f32],
    mut out: [&mut [f32]; N],
) {
    const L: usize = 16;
    let n = out[0].len();
    // Checked here as well as by the callers: the taps are read through a raw pointer.
    assert!(
        (2..=8).contains(&N) && c.len() == 2 * R + 1 && out.iter().all(|o| o.len() == n),
        "taps and rows differ"
    );
    // `ring_row_ptrs` checks the rows' lengths (2R + N <= 38).
    let rows: [*const f32; 38] = super::ring_row_ptrs(ring, offsets, n);
    if n < L {
        for (m, o) in out.into_iter().enumerate() {
            scalar::v_row_f32_from(ring, &offsets[m..m + 2 * R + 1], c, o, 0);
        }
        return;
    }
    // The last vector ends at n, overlapping the one before (its columns computed again,
    // to the same bits) instead of a scalar tail.
    for start in (0..n).step_by(L) {
        let i = start.min(n - L);
        // SAFETY: rows[k] + i + 16 <= ring start + offsets[k] + n <= ring end (asserted by
        // `ring_row_ptrs`); the taps read c[0 ..= R], within c.len() = 2R + 1; the stores
        // write out[m][i..i + 16] with i + 16 <= n, the length of every output row (both
        // asserted above). The prefetch addresses may lie past a row (the last step's
        // do): `wrapping_add` is defined for any offset and a prefetch reads nothing.
        unsafe {
            // The rows' next vectors, asked for a step ahead: the step's first loads
            // otherwise wait on L2.
            if ahead.is_empty() {
                for row in &rows[..2 * R + N] {
                    _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(i + L).cast());
                }
            }
            for &off in ahead {
                _mm_prefetch::<_MM_HINT_T1>(ring.as_ptr().wrapping_add(off + i).cast());
            }
            let at = |k: usize| _mm512_loadu_ps(rows[k].add(i));
            // Hidden from the optimizer, which would otherwise hoist the sixteen tap
            // broadcasts out of the loop and spill the rows: one broadcast load per step.
            let taps = std::hint::black_box(c.as_ptr());
            let centre = _mm512_set1_ps(*taps.add(R));
            let mut acc: [__m512; N] = std::array::from_fn(|m| _mm512_mul_ps(centre, at(R + m)));
            // Lower rows R − d + m (m < N − 1 carried, N − 1 loaded per step) and upper
            // rows R + d + m (m > 0 carried, 0 loaded per step).
            let mut lo: [__m512; N] = std::array::from_fn(|m| at(m.min(N - 2)));
            let mut hi: [__m512; N] = std::array::from_fn(|m| at(2 * R + m.max(1)));
            super::for_taps!(R, e => {
                let d = R + 1 - e;
                lo[N - 1] = at(R + N - 1 - d);
                hi[0] = at(R + d);
                let t = _mm512_set1_ps(*taps.add(R - d));
                for m in 0..N {
                    acc[m] = _mm512_fmadd_ps(t, _mm512_add_ps(lo[m], hi[m]), acc[m]);
                }
                lo = std::array::from_fn(|m| lo[(m + 1).min(N - 1)]);
                hi = std::array::from_fn(|m| hi[m.saturating_sub(1)]);
            });
            for (o, v) in out.iter_mut().zip(acc) {
                _mm512_storeu_ps(o.as_mut_ptr().add(i), v);
            }
        }
    }
}

/// Smallest radius the transposed eight-row pass takes (measured on 4K, one thread:
/// 9 taps 4.6-4.7 ms by rows against 4.8-5.0 transposed, 11 taps 5.4-5.8 against 5.0).
const TRANSPOSED_MIN_RADIUS: usize = 5;

/// [`h_row_f32`] over the eight rows a vertical step makes (`columns`: scratch of at
/// least `(n + c.len()).next_multiple_of(8) · 8` floats), for kernels of 11 to 31 taps:
/// the rows are transposed in 8x8 blocks so that a 256-bit vector holds one column of
/// the eight rows, the taps run along the columns as the vertical pass runs along rows
/// (eight rotating accumulators, whole-column loads and no shuffles: the row pass spends
/// half its windows on `valignd` and the other half on loads straddling two cache
/// lines), and the results are transposed back. The outputs the row pass makes with
/// vectors (all but the last `n mod 16`) get the same operations in the same order, the
/// rest its scalar tail: the same bits as [`h_row_f32`] on each row.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
pub fn h_rows_f32_8(p: [&[f32]; 8], c: &[f32], out: [&mut [f32]; 8], columns: &mut [f32]) {
    let n = out[0].len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2)
            && out.iter().all(|o| o.len() == n)
            && p.iter().all(|p| p.len() >= n + 2 * r),
        "padded rows too short"
    );
    if !(TRANSPOSED_MIN_RADIUS..=15).contains(&r) {
        for (p, o) in p.into_iter().zip(out) {
            h_row_f32(p, c, o);
        }
        return;
    }
    super::with_radius!(r, R => h_rows_transposed::<R>(p, c, out, columns))
}

/// The 8x8 transpose of `rows` (row k's lane j becomes row j's lane k).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
fn transpose8(rows: [__m256; 8]) -> [__m256; 8] {
    let lo = |a, b| _mm256_unpacklo_ps(a, b);
    let hi = |a, b| _mm256_unpackhi_ps(a, b);
    let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
    let (t0, t1, t2, t3) = (lo(r0, r1), hi(r0, r1), lo(r2, r3), hi(r2, r3));
    let (t4, t5, t6, t7) = (lo(r4, r5), hi(r4, r5), lo(r6, r7), hi(r6, r7));
    let even = |a, b| _mm256_shuffle_ps::<0x44>(a, b);
    let odd = |a, b| _mm256_shuffle_ps::<0xEE>(a, b);
    let (s0, s1, s2, s3) = (even(t0, t2), odd(t0, t2), even(t1, t3), odd(t1, t3));
    let (s4, s5, s6, s7) = (even(t4, t6), odd(t4, t6), even(t5, t7), odd(t5, t7));
    let first = |a, b| _mm256_permute2f128_ps::<0x20>(a, b);
    let second = |a, b| _mm256_permute2f128_ps::<0x31>(a, b);
    [
        first(s0, s4),
        first(s1, s5),
        first(s2, s6),
        first(s3, s7),
        second(s0, s4),
        second(s1, s5),
        second(s2, s6),
        second(s3, s7),
    ]
}

/// [`h_rows_f32_8`] for radius `R` (at most 15), unrolled.
// The last unrolled step carries columns no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
fn h_rows_transposed<const R: usize>(
    p: [&[f32]; 8],
    c: &[f32],
    mut out: [&mut [f32]; 8],
    columns: &mut [f32],
) {
    const L: usize = 8;
    const N: usize = 8;
    let n = out[0].len();
    // Checked here as well: the taps are read through a raw pointer.
    assert!(
        c.len() == 2 * R + 1
            && out.iter().all(|o| o.len() == n)
            && p.iter().all(|p| p.len() >= n + 2 * R),
        "taps and rows differ"
    );
    // The outputs the row pass makes with vectors, and the columns they read.
    let vectored = n / 16 * 16;
    let m = vectored + 2 * R;
    assert!(
        columns.len() >= m.next_multiple_of(L) * L,
        "column scratch too short"
    );
    // columns[x·8 + k] = p[k][x] for x < m.
    let mut x = 0;
    while x + L <= m {
        // SAFETY: the loads read p[k][x .. x + 8] with x + 8 <= m <= n + 2R <= p[k].len();
        // the stores write columns[x·8 .. (x + 8)·8], within the asserted length.
        unsafe {
            let rows = std::array::from_fn(|k| _mm256_loadu_ps(p[k].as_ptr().add(x)));
            for (j, v) in transpose8(rows).into_iter().enumerate() {
                _mm256_storeu_ps(columns.as_mut_ptr().add((x + j) * L), v);
            }
        }
        x += L;
    }
    for x in x..m {
        for (k, row) in p.iter().enumerate() {
            columns[x * L + k] = row[x];
        }
    }
    for base in (0..vectored).step_by(L) {
        // SAFETY: the loads read columns[(base + j)·8 ..][..8] for j <= 2R + 7, and base +
        // 8 <= vectored, so (base + j + 1)·8 <= (vectored + 2R)·8 = m·8 <= columns.len();
        // the taps read c[0 ..= R] (c.len() = 2R + 1, asserted); the stores write
        // out[k][base .. base + 8] with base + 8 <= n.
        unsafe {
            let at = |j: usize| _mm256_loadu_ps(columns.as_ptr().add((base + j) * L));
            // Read through a pointer the optimizer cannot see into, as in the vertical
            // pass: one broadcast load per step instead of sixteen taps held in registers.
            let taps = std::hint::black_box(c.as_ptr());
            let centre = _mm256_set1_ps(*taps.add(R));
            // Output column base + m: centre R + m, pairs (R + m − d, R + m + d).
            let mut acc: [__m256; N] = std::array::from_fn(|m| _mm256_mul_ps(centre, at(R + m)));
            let mut lo: [__m256; N] = std::array::from_fn(|m| at(m.min(N - 2)));
            let mut hi: [__m256; N] = std::array::from_fn(|m| at(2 * R + m.max(1)));
            super::for_taps!(R, e => {
                let d = R + 1 - e;
                lo[N - 1] = at(R + N - 1 - d);
                hi[0] = at(R + d);
                let t = _mm256_set1_ps(*taps.add(R - d));
                for m in 0..N {
                    acc[m] = _mm256_fmadd_ps(t, _mm256_add_ps(lo[m], hi[m]), acc[m]);
                }
                lo = std::array::from_fn(|m| lo[(m + 1).min(N - 1)]);
                hi = std::array::from_fn(|m| hi[m.saturating_sub(1)]);
            });
            for (o, v) in out.iter_mut().zip(transpose8(acc)) {
                _mm256_storeu_ps(o.as_mut_ptr().add(base), v);
            }
        }
    }
    for (p, o) in p.iter().zip(out.iter_mut()) {
        scalar::h_row_f32_from(p, c, o, vectored);
    }
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn h_row_u8_fast(p: &[u8], t: &[i16], out: &mut [i16]) {
    super::with_radius!(t.len() - 1, R => h_fast::<R>(p, t, out))
}

/// The fast horizontal pass for radius `R`, unrolled: taps stay in registers, pixels
/// are widened to Q6 as they are loaded (pairs summed first: 2·255·64 fits i16).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn h_fast<const R: usize>(p: &[u8], t: &[i16], out: &mut [i16]) {
    const L: usize = 32;
    let n = out.len();
    assert!(
        t.len() == R + 1 && p.len() >= n + 2 * R,
        "padded row too short"
    );
    let mut taps = [_mm512_setzero_si512(); 16];
    for d in 0..=R {
        taps[d] = _mm512_set1_epi16(t[d]);
    }
    let mut i = 0;
    while i + L <= n {
        // SAFETY: loads read p[i ..= i + 2R + 31] with i + 32 <= n: below n + 2R <= p.len().
        unsafe {
            let at =
                |k: usize| _mm512_cvtepu8_epi16(_mm256_loadu_si256(p.as_ptr().add(i + k).cast()));
            let mut acc = _mm512_mulhrs_epi16(_mm512_slli_epi16::<6>(at(R)), taps[0]);
            super::for_taps!(R, d => {
                let pair = _mm512_slli_epi16::<6>(_mm512_add_epi16(at(R - d), at(R + d)));
                acc = _mm512_add_epi16(acc, _mm512_mulhrs_epi16(pair, taps[d]));
            });
            _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), acc);
        }
        i += L;
    }
    scalar::h_row_u8_fast_from(p, t, out, i);
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_u8_fast(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    super::with_radius!(t.len() - 1, R => v_fast::<R>(ring, offsets, t, out))
}

/// The fast vertical pass for radius `R`, unrolled.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn v_fast<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    const L: usize = 64;
    let n = out.len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 1,
        "taps and rows differ"
    );
    let full = n / L * L;
    let mut taps = [_mm512_setzero_si512(); 16];
    for d in 0..=R {
        taps[d] = _mm512_set1_epi16(t[d]);
    }
    let rows: [*const i16; 31] = super::ring_row_ptrs(ring, offsets, full);
    let half = _mm512_set1_epi16(32);
    let order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 64 <= ring start + offsets[k] + full <= ring end (asserted).
        let v = unsafe {
            // Both halves in one unrolled body: two independent chains, and no closure
            // too large to inline.
            let at = |k: usize, h: usize| _mm512_loadu_si512(rows[k].add(i + h).cast());
            let mut acc0 = _mm512_mulhrs_epi16(at(R, 0), taps[0]);
            let mut acc1 = _mm512_mulhrs_epi16(at(R, 32), taps[0]);
            super::for_taps!(R, d => {
                let pair0 = _mm512_add_epi16(at(R - d, 0), at(R + d, 0));
                let pair1 = _mm512_add_epi16(at(R - d, 32), at(R + d, 32));
                acc0 = _mm512_add_epi16(acc0, _mm512_mulhrs_epi16(pair0, taps[d]));
                acc1 = _mm512_add_epi16(acc1, _mm512_mulhrs_epi16(pair1, taps[d]));
            });
            let x = _mm512_srai_epi16::<6>(_mm512_add_epi16(acc0, half));
            let y = _mm512_srai_epi16::<6>(_mm512_add_epi16(acc1, half));
            _mm512_permutexvar_epi64(order, _mm512_packus_epi16(x, y))
        };
        // SAFETY: i + 64 <= n = out.len().
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), v) };
        i += L;
    }
    scalar::v_row_u8_fast_from(ring, offsets, t, out, i);
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_u8_fast2(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    super::with_radius!(t.len() - 1, R => v_fast2::<R>(ring, offsets, t, a, b))
}

#[target_feature(enable = "avx512f,avx512bw")]
pub fn v_row_u8_fast4(ring: &[i16], offsets: &[usize], t: &[i16], out: [&mut [u8]; 4]) {
    super::with_radius!(t.len() - 1, R => v_fast4::<R>(ring, offsets, t, out))
}

/// Four output rows of the fast vertical pass from `2R + 4` ring rows, each row loaded
/// once for all four (a third of the ring traffic of two rows at a time, as for f32):
/// row `m` sums rows (R + m − d, R + m + d). 32 columns per step, so four rows of sums,
/// the carried rows and the taps fit the 32 registers.
// The last unrolled step carries rows no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn v_fast4<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], mut out: [&mut [u8]; 4]) {
    const L: usize = 32;
    let n = out[0].len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 4 && out.iter().all(|o| o.len() == n),
        "taps and rows differ"
    );
    let full = n / L * L;
    let mut taps = [_mm512_setzero_si512(); 16];
    for d in 0..=R {
        taps[d] = _mm512_set1_epi16(t[d]);
    }
    let rows: [*const i16; 34] = super::ring_row_ptrs(ring, offsets, full);
    let (half, zero) = (_mm512_set1_epi16(32), _mm512_setzero_si512());
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 32 <= ring start + offsets[k] + full <= ring end (asserted
        // by `ring_row_ptrs`).
        let acc = unsafe {
            let at = |k: usize| _mm512_loadu_si512(rows[k].add(i).cast());
            let mut acc = [0, 1, 2, 3].map(|m| _mm512_mulhrs_epi16(at(R + m), taps[0]));
            // Lower rows R − d + m (m = 0, 1, 2 carried, 3 loaded per step) and upper rows
            // R + d + m (m = 1, 2, 3 carried, 0 loaded per step), outermost pair first (the
            // one-row pass starts innermost; the wrapping adds give the same bits).
            let (mut lo0, mut lo1, mut lo2) = (at(0), at(1), at(2));
            let (mut hi1, mut hi2, mut hi3) = (at(2 * R + 1), at(2 * R + 2), at(2 * R + 3));
            super::for_taps!(R, e => {
                let d = R + 1 - e;
                let (lo3, hi0) = (at(R + 3 - d), at(R + d));
                let t = taps[d];
                let term = |lo, hi| _mm512_mulhrs_epi16(_mm512_add_epi16(lo, hi), t);
                acc[0] = _mm512_add_epi16(acc[0], term(lo0, hi0));
                acc[1] = _mm512_add_epi16(acc[1], term(lo1, hi1));
                acc[2] = _mm512_add_epi16(acc[2], term(lo2, hi2));
                acc[3] = _mm512_add_epi16(acc[3], term(lo3, hi3));
                (lo0, lo1, lo2) = (lo1, lo2, lo3);
                (hi1, hi2, hi3) = (hi0, hi1, hi2);
            });
            acc
        };
        for (o, a) in out.iter_mut().zip(acc) {
            let x = _mm512_max_epi16(_mm512_srai_epi16::<6>(_mm512_add_epi16(a, half)), zero);
            // SAFETY: i + 32 <= n = o.len().
            unsafe { _mm256_storeu_si256(o.as_mut_ptr().add(i).cast(), _mm512_cvtusepi16_epi8(x)) };
        }
        i += L;
    }
    for (m, o) in out.into_iter().enumerate() {
        scalar::v_row_u8_fast_from(ring, &offsets[m..m + 2 * R + 1], t, o, i);
    }
}

/// Two output rows of the fast vertical pass from `2R + 2` ring rows, each row loaded
/// once: `a` sums rows (R − d, R + d), `b` rows (R + 1 − d, R + 1 + d).
// The last unrolled step carries rows no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn v_fast2<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    const L: usize = 64;
    let n = a.len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 2 && b.len() == n,
        "taps and rows differ"
    );
    let full = n / L * L;
    let mut taps = [_mm512_setzero_si512(); 16];
    for d in 0..=R {
        taps[d] = _mm512_set1_epi16(t[d]);
    }
    let rows: [*const i16; 32] = super::ring_row_ptrs(ring, offsets, full);
    let half = _mm512_set1_epi16(32);
    let order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
    let narrow = |x: __m512i, y: __m512i| {
        let x = _mm512_srai_epi16::<6>(_mm512_add_epi16(x, half));
        let y = _mm512_srai_epi16::<6>(_mm512_add_epi16(y, half));
        _mm512_permutexvar_epi64(order, _mm512_packus_epi16(x, y))
    };
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 64 <= ring start + offsets[k] + full <= ring end (asserted).
        let (va, vb) = unsafe {
            let at = |k: usize, h: usize| _mm512_loadu_si512(rows[k].add(i + h).cast());
            // lo: row R + 1 − d (b's upper row, a's of the step before); hi: row R + d
            // (a's lower row, b's of the step before).
            let (mut lo0, mut lo1) = (at(R, 0), at(R, 32));
            let (mut hi0, mut hi1) = (at(R + 1, 0), at(R + 1, 32));
            let mut a0 = _mm512_mulhrs_epi16(lo0, taps[0]);
            let mut a1 = _mm512_mulhrs_epi16(lo1, taps[0]);
            let mut b0 = _mm512_mulhrs_epi16(hi0, taps[0]);
            let mut b1 = _mm512_mulhrs_epi16(hi1, taps[0]);
            super::for_taps!(R, d => {
                let (up0, up1) = (at(R - d, 0), at(R - d, 32));
                let (down0, down1) = (at(R + 1 + d, 0), at(R + 1 + d, 32));
                a0 = _mm512_add_epi16(a0, _mm512_mulhrs_epi16(_mm512_add_epi16(up0, hi0), taps[d]));
                a1 = _mm512_add_epi16(a1, _mm512_mulhrs_epi16(_mm512_add_epi16(up1, hi1), taps[d]));
                b0 = _mm512_add_epi16(b0, _mm512_mulhrs_epi16(_mm512_add_epi16(lo0, down0), taps[d]));
                b1 = _mm512_add_epi16(b1, _mm512_mulhrs_epi16(_mm512_add_epi16(lo1, down1), taps[d]));
                (lo0, lo1, hi0, hi1) = (up0, up1, down0, down1);
            });
            (narrow(a0, a1), narrow(b0, b1))
        };
        // SAFETY: i + 64 <= n = a.len() = b.len().
        unsafe {
            _mm512_storeu_si512(a.as_mut_ptr().add(i).cast(), va);
            _mm512_storeu_si512(b.as_mut_ptr().add(i).cast(), vb);
        }
        i += L;
    }
    scalar::v_row_u8_fast_from(ring, &offsets[..2 * R + 1], t, a, i);
    scalar::v_row_u8_fast_from(ring, &offsets[1..], t, b, i);
}
