//! The f32 maps of local statistics on AVX-512, fused with the window sums: each vector
//! of 8 window sums (and sums of squares) is mapped in registers and stored as f32, so
//! no row of window sums is written and read back, and the f32 square roots overlap the
//! adds. The same operations in the same order as [`super::map_row_f64`] over the
//! window sums of [`crate::kernels::window::sums_of_columns`]: the same bits.

use std::arch::x86_64::*;

use super::{LocalStat, LocalThreshold, map_columns_in_chunks};
use crate::kernels::window::f64_sums::avx512::{L, for_each_vector};
use crate::simd::SimdLevel;

/// Widest window (in columns) fused here.
pub(super) const MAX_K: usize = crate::kernels::window::f64_sums::avx512::MAX_K;

/// `out` = the map `what` of the window sums of `k` columns of `p` (and `q`, the sums of
/// squares; empty for the mean), with `inv` = 1 / window area. Returns false, leaving
/// `out` partly written, when a variance reached f32's range: the caller then takes the
/// reference, which roots those in f64.
#[target_feature(enable = "avx512f")]
pub(super) fn map_columns(
    p: &[f64],
    q: &[f64],
    k: usize,
    inv: f64,
    what: LocalStat,
    out: &mut [f32],
) -> bool {
    let n = out.len();
    // The mean has no sums of squares: the walk sums `p` twice and ignores the copy.
    let q_or_p = if q.is_empty() { p } else { q };
    assert!(
        (1..=MAX_K).contains(&k) && p.len() >= n + k - 1 && q_or_p.len() >= n + k - 1,
        "map of column sums: k {k} outside 1..={MAX_K} or rows too short"
    );
    let vinv = _mm512_set1_pd(inv);
    let f32_max = _mm512_set1_pd(f64::from(f32::MAX));
    let zero = _mm512_setzero_pd();
    let mut huge: __mmask8 = 0;
    // Mean and variance, as map_row_f64 forms them.
    let mean = |s: __m512d| _mm512_mul_pd(s, vinv);
    let mut variance = |m: __m512d, t: __m512d| {
        let var = _mm512_sub_pd(_mm512_mul_pd(t, vinv), _mm512_mul_pd(m, m));
        huge |= _mm512_cmp_pd_mask::<_CMP_GE_OQ>(var, f32_max);
        var
    };
    // `var <= 0 → 0, else the f32 root of var as f32`: lanes not above zero are zeroed
    // before the root (NaN counts as above zero, as in map_row_f64, and stays NaN).
    let root = |var: __m512d| {
        let above = _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(var, zero);
        _mm256_sqrt_ps(_mm512_maskz_cvtpd_ps(above, var))
    };
    let store = |out: &mut [f32], i: usize, v: __m256| {
        assert!(i + L <= out.len());
        // SAFETY: i + 8 <= out.len(), just checked (for_each_vector passes whole vectors).
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), v) }
    };
    // SAFETY: this function enables AVX-512 F, and its caller checks the CPU has it.
    let done = unsafe {
        match what {
            LocalStat::Mean => for_each_vector(p, q_or_p, k, n, |i, s, _| {
                store(out, i, _mm512_cvtpd_ps(mean(s)));
            }),
            LocalStat::Threshold(LocalThreshold::Mean { c }) => {
                let c = _mm512_set1_pd(c);
                for_each_vector(p, q_or_p, k, n, |i, s, _| {
                    store(out, i, _mm512_cvtpd_ps(_mm512_sub_pd(mean(s), c)));
                })
            }
            LocalStat::Std => for_each_vector(p, q_or_p, k, n, |i, s, t| {
                store(out, i, root(variance(mean(s), t)));
            }),
            LocalStat::Threshold(t) => {
                // a·m + b·s + c·m·s, the coefficients map_row_f64 uses.
                let (a, b, c) = match t {
                    LocalThreshold::Niblack { k } => (1.0, k, 0.0),
                    LocalThreshold::Sauvola { k, r } => (1.0 - k, 0.0, k / r),
                    LocalThreshold::Mean { .. } => unreachable!("matched above"),
                };
                let (a, b, c) = (_mm512_set1_pd(a), _mm512_set1_pd(b), _mm512_set1_pd(c));
                for_each_vector(p, q_or_p, k, n, |i, s, t| {
                    let m = mean(s);
                    let sd = _mm512_cvtps_pd(root(variance(m, t)));
                    let lin = _mm512_add_pd(_mm512_mul_pd(a, m), _mm512_mul_pd(b, sd));
                    let v = _mm512_add_pd(lin, _mm512_mul_pd(_mm512_mul_pd(c, m), sd));
                    store(out, i, _mm512_cvtpd_ps(v));
                })
            }
        }
    };
    if huge != 0 {
        return false;
    }
    // The last outputs (fewer than a vector, or whose loads would leave the rows).
    if done < n {
        let tail_q = if q.is_empty() { q } else { &q[done..] };
        map_columns_in_chunks::<f32>(
            SimdLevel::Avx512,
            &p[done..],
            tail_q,
            k,
            inv,
            what,
            &mut out[done..],
        );
    }
    true
}
