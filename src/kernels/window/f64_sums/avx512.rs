//! AVX-512 window sums of f64 column sums (narrow windows, 1 to 16 columns): the
//! stored form for any emitter, and the per-vector walk that fused kernels (the local
//! statistics) build on. Sums run from 0.0 in order of column, as the compiled loop
//! does: the same bits.

use std::arch::x86_64::*;

/// Outputs per vector.
pub(crate) const L: usize = 8;

/// Widest window handled here.
pub(crate) const MAX_K: usize = 16;

/// Window `j` (0..=16) of the 24 values in `v`: values j .. j + 8. Wherever `j` is a
/// constant this folds to one `valignq`.
#[inline(always)]
fn window(j: usize, v: &[__m512i; 3]) -> __m512d {
    let (lo, hi, s) = if j < L {
        (v[0], v[1], j)
    } else {
        (v[1], v[2], j - L)
    };
    // SAFETY: AVX-512 F is enabled in every caller (all are `avx512f` target-feature
    // functions, through `for_each_vector`).
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
/// Inlined into each caller, which must enable AVX-512 F.
#[inline(always)]
pub(crate) fn for_each_vector(
    p: &[f64],
    q: &[f64],
    k: usize,
    n: usize,
    each: impl FnMut(usize, __m512d, __m512d),
) -> usize {
    macro_rules! with_k {
        ($($k:literal)*) => {
            match k {
                $($k => walk::<$k>(p, q, n, each),)*
                _ => unreachable!("windows of 1 to 16 columns"),
            }
        };
    }
    with_k!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// [`for_each_vector`] for a window of `K` columns. Even windows are cut from two or
/// three loaded vectors with `valignq`, odd ones loaded: shuffles share the adds'
/// pipes, and a load at an f64 offset straddles two cache lines.
#[inline(always)]
fn walk<const K: usize>(
    p: &[f64],
    q: &[f64],
    n: usize,
    mut each: impl FnMut(usize, __m512d, __m512d),
) -> usize {
    // Windows reach index i + K + 6 < i + 24: two or three vectors.
    let loaded = if K + L - 1 <= 2 * L { 2 * L } else { 3 * L };
    let mut i = 0;
    while i + L <= n && i + loaded <= p.len().min(q.len()) {
        // SAFETY: the loads read p and q [i .. i + loaded], within both (loop
        // condition); AVX-512 F is enabled in the caller (see above).
        unsafe {
            let load = |src: &[f64], j: usize| _mm512_loadu_si512(src.as_ptr().add(i + j).cast());
            let vectors = |src: &[f64]| {
                if loaded == 3 * L {
                    [load(src, 0), load(src, L), load(src, 2 * L)]
                } else {
                    [load(src, 0), load(src, L), _mm512_setzero_si512()]
                }
            };
            let (vp, vq) = (vectors(p), vectors(q));
            let (mut s, mut t) = (_mm512_setzero_pd(), _mm512_setzero_pd());
            for j in 0..K {
                let (wp, wq) = if j % 2 == 0 {
                    (window(j, &vp), window(j, &vq))
                } else {
                    (
                        _mm512_loadu_pd(p.as_ptr().add(i + j)),
                        _mm512_loadu_pd(q.as_ptr().add(i + j)),
                    )
                };
                s = _mm512_add_pd(s, wp);
                t = _mm512_add_pd(t, wq);
            }
            each(i, s, t);
        }
        i += L;
    }
    i
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
    let done = for_each_vector(p, q, k, n, |i, s, t| {
        // SAFETY: `for_each_vector` passes i + 8 <= n = the length of out and out_q.
        unsafe {
            _mm512_storeu_pd(out.as_mut_ptr().add(i), s);
            _mm512_storeu_pd(out_q.as_mut_ptr().add(i), t);
        }
    });
    for i in done..n {
        let (mut s, mut t) = (0.0f64, 0.0f64);
        for j in 0..k {
            s += p[i + j];
            t += q[i + j];
        }
        out[i] = s;
        out_q[i] = t;
    }
}
