//! AVX-512 window sums of f64 column sums (narrow windows, 1 to 16 columns): the
//! stored form for any emitter, and the per-vector walk that fused kernels (the local
//! statistics) build on. Sums follow [`pairwise_sum_f64`]'s order, as the compiled loop
//! does: the same bits.

use std::arch::x86_64::*;

use crate::kernels::window::pairwise_sum_f64;

/// Outputs per vector.
pub(crate) const L: usize = 8;

/// Widest window handled here.
pub(crate) const MAX_K: usize = 16;

/// Window `j` (0..16) of the 24 values in `v`: values j .. j + 8. Wherever `j` is a
/// constant this folds to one `valignq`.
///
/// # Safety
/// The CPU has AVX-512 F.
#[inline(always)]
unsafe fn window(j: usize, v: &[__m512i; 3]) -> __m512d {
    debug_assert!(j < 2 * L, "window {j} past the second vector");
    let (lo, hi, s) = if j < L {
        (v[0], v[1], j)
    } else {
        (v[1], v[2], j - L)
    };
    // SAFETY: the caller vouches for AVX-512 F; the shuffles touch registers only.
    unsafe {
        _mm512_castsi512_pd(match s {
            0 => lo,
            1 => _mm512_alignr_epi64::<1>(hi, lo),
            2 => _mm512_alignr_epi64::<2>(hi, lo),
            3 => _mm512_alignr_epi64::<3>(hi, lo),
            4 => _mm512_alignr_epi64::<4>(hi, lo),
            5 => _mm512_alignr_epi64::<5>(hi, lo),
            6 => _mm512_alignr_epi64::<6>(hi, lo),
            _ => _mm512_alignr_epi64::<7>(hi, lo),
        })
    }
}

/// Calls `each(i, s, t)` for i = 0, 8, 16, … with the window sums of `k` (1..=16)
/// columns of `p` and of `q` for outputs i .. i + 8, as long as a whole vector of `n`
/// outputs remains and its loads stay inside both rows; returns the first output not
/// covered (the caller finishes the row with the compiled loop).
///
/// Inlined into each caller, an `avx512f` target-feature function.
///
/// # Safety
/// The CPU has AVX-512 F.
#[inline(always)]
pub(crate) unsafe fn for_each_vector(
    p: &[f64],
    q: &[f64],
    k: usize,
    n: usize,
    each: impl FnMut(usize, __m512d, __m512d),
) -> usize {
    macro_rules! with_k {
        ($($k:literal)*) => {
            match k {
                // SAFETY: the caller vouches for AVX-512 F.
                $($k => unsafe { walk::<$k>(p, q, n, each) },)*
                _ => unreachable!("windows of 1 to 16 columns"),
            }
        };
    }
    with_k!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// [`for_each_vector`] for a window of `K` columns, in the order of
/// [`pairwise_sum_f64`]: the pair sums `c[x] + c[x+1]` of up to three vectors' worth of
/// columns (each pair vector one add of an aligned and a shifted load, and carried over
/// to the next outputs, so only the last is new each step), windows cut from them with
/// `valignq`, the odd last column loaded. For 7 columns that is 4 adds and 2 shuffles a
/// vector, against 7 and 3 summing column by column from zero: shuffles and adds share
/// the same pipes, and the loads are cheaper.
///
/// # Safety
/// The CPU has AVX-512 F.
#[inline(always)]
unsafe fn walk<const K: usize>(
    p: &[f64],
    q: &[f64],
    n: usize,
    mut each: impl FnMut(usize, __m512d, __m512d),
) -> usize {
    let reach = reach::<K>();
    let fits = |i: usize| i + L <= n && i + reach <= p.len().min(q.len());
    if !fits(0) {
        return 0;
    }
    // SAFETY (all three blocks): `fits(i)` holds for every i passed, so
    // i + reach <= the length of p and of q, which is what `pairs_at`, `advance` and
    // `sum_from` read; the caller vouches for AVX-512 F.
    let (mut vp, mut vq) = unsafe { (pairs_at::<K>(p, 0), pairs_at::<K>(q, 0)) };
    let mut i = 0;
    loop {
        unsafe { each(i, sum_from::<K>(&vp, p, i), sum_from::<K>(&vq, q, i)) };
        i += L;
        if !fits(i) {
            return i;
        }
        unsafe {
            advance::<K>(&mut vp, p, i);
            advance::<K>(&mut vq, q, i);
        }
    }
}

/// Pair vectors a window of `K` columns needs: pairs starting at columns 8·v .. 8·v + 8
/// for v below this. The last pair window starts at column 2·(pairs − 1).
const fn pair_vectors(k: usize) -> usize {
    let pairs = k / 2;
    if pairs == 0 {
        0
    } else {
        1 + (2 * (pairs - 1)).div_ceil(L)
    }
}

/// How far past the first output the sums of a vector read (an exclusive end): 8·v + 9
/// for pair vector v ([`pair`]), K + 7 for the odd last column ([`sum_from`]).
const fn reach<const K: usize>() -> usize {
    let pairs_end = L * pair_vectors(K) + 1;
    let odd_end = if K % 2 == 1 { K - 1 + L } else { 0 };
    if pairs_end > odd_end {
        pairs_end
    } else {
        odd_end
    }
}

/// Pair vector `v` at `i`: `src[x] + src[x+1]` for x = i + 8·v .. i + 8·v + 8.
///
/// # Safety
/// `i + 8·v + 9 <= src.len()`, and the CPU has AVX-512 F.
#[inline(always)]
unsafe fn pair(src: &[f64], i: usize, v: usize) -> __m512i {
    // SAFETY: the loads read src[i + 8v .. i + 8v + 9] (the caller's bound).
    unsafe {
        let at = src.as_ptr().add(i + L * v);
        _mm512_castpd_si512(_mm512_add_pd(
            _mm512_loadu_pd(at),
            _mm512_loadu_pd(at.add(1)),
        ))
    }
}

/// The pair vectors of a window of `K` columns at `i` (unused ones zero).
///
/// # Safety
/// `i + reach::<K>() <= src.len()`, and the CPU has AVX-512 F.
#[inline(always)]
unsafe fn pairs_at<const K: usize>(src: &[f64], i: usize) -> [__m512i; 3] {
    // SAFETY: pair vector v < pair_vectors(K) reads up to i + 8v + 9 <= i + reach.
    unsafe {
        let zero = _mm512_setzero_si512();
        [
            if pair_vectors(K) > 0 {
                pair(src, i, 0)
            } else {
                zero
            },
            if pair_vectors(K) > 1 {
                pair(src, i, 1)
            } else {
                zero
            },
            if pair_vectors(K) > 2 {
                pair(src, i, 2)
            } else {
                zero
            },
        ]
    }
}

/// Moves the pair vectors of `i − 8` on to `i`: each takes the next one's place, and
/// only the last is computed.
///
/// # Safety
/// `i + reach::<K>() <= src.len()`, and the CPU has AVX-512 F.
#[inline(always)]
unsafe fn advance<const K: usize>(v: &mut [__m512i; 3], src: &[f64], i: usize) {
    let last = pair_vectors(K);
    if last == 0 {
        return;
    }
    for j in 1..last {
        v[j - 1] = v[j];
    }
    // SAFETY: as in `pairs_at`, for the last pair vector.
    v[last - 1] = unsafe { pair(src, i, last - 1) };
}

/// The window sums of `K` columns of `src` for outputs i .. i + 8, from the pair
/// vectors at `i`.
///
/// # Safety
/// `i + reach::<K>() <= src.len()`, and the CPU has AVX-512 F.
#[inline(always)]
unsafe fn sum_from<const K: usize>(v: &[__m512i; 3], src: &[f64], i: usize) -> __m512d {
    // SAFETY: the loads read src[i .. i + 8] and src[i + K − 1 .. i + K + 7], within
    // i + reach (the caller's bound).
    unsafe {
        let base = src.as_ptr().add(i);
        let mut s = if K == 1 {
            _mm512_loadu_pd(base)
        } else {
            window(0, v)
        };
        for m in 1..K / 2 {
            s = _mm512_add_pd(s, window(2 * m, v));
        }
        if K % 2 == 1 && K > 1 {
            s = _mm512_add_pd(s, _mm512_loadu_pd(base.add(K - 1)));
        }
        s
    }
}

/// `out[i] = Σ_{j<k} p[i+j]` and the same from `q` into `out_q`, for windows of 1 to 16
/// columns; the compiled loop's bits.
#[target_feature(enable = "avx512f")]
pub(crate) fn sums_of_cols(p: &[f64], q: &[f64], k: usize, out: &mut [f64], out_q: &mut [f64]) {
    let n = out.len();
    assert!(
        out_q.len() == n && p.len() >= n + k - 1 && q.len() >= n + k - 1,
        "window sums: rows too short"
    );
    let store = |i: usize, s: __m512d, t: __m512d| {
        // SAFETY: `for_each_vector` passes i + 8 <= n = the length of out and out_q.
        unsafe {
            _mm512_storeu_pd(out.as_mut_ptr().add(i), s);
            _mm512_storeu_pd(out_q.as_mut_ptr().add(i), t);
        }
    };
    // SAFETY: this function enables AVX-512 F, and its callers check the CPU has it.
    let done = unsafe { for_each_vector(p, q, k, n, store) };
    for i in done..n {
        out[i] = pairwise_sum_f64(p, i, k);
        out_q[i] = pairwise_sum_f64(q, i, k);
    }
}
