//! AVX2: an 8-lane prefix sum (two in-lane byte shifts, then the low half's total added
//! to the high half), plus the running total and the row above.

use std::arch::x86_64::*;

use super::scalar;

#[target_feature(enable = "avx2,fma")]
pub fn integral_row_u8(src: &[u8], above: &[u32], out: &mut [u32]) {
    const L: usize = 8;
    let n = src.len();
    assert!(above.len() > n && out.len() > n, "rows too short");
    out[0] = 0;
    let mut carry = _mm256_setzero_si256();
    let last = _mm256_set1_epi32(7);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: src[i..i + 8], above and out [i + 1..i + 9] lie inside (asserted n < len).
        unsafe {
            let mut x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(src.as_ptr().add(i).cast()));
            x = _mm256_add_epi32(x, _mm256_slli_si256::<4>(x));
            x = _mm256_add_epi32(x, _mm256_slli_si256::<8>(x));
            // Lane sums so far are per 128-bit half; add the low half's total to the high.
            let low_total =
                _mm256_permutevar8x32_epi32(x, _mm256_set_epi32(3, 3, 3, 3, 8, 8, 8, 8));
            let low_total = _mm256_blend_epi32::<0b0000_1111>(low_total, _mm256_setzero_si256());
            x = _mm256_add_epi32(x, low_total);
            x = _mm256_add_epi32(x, carry);
            carry = _mm256_permutevar8x32_epi32(x, last);
            let up = _mm256_loadu_si256(above.as_ptr().add(i + 1).cast());
            _mm256_storeu_si256(out.as_mut_ptr().add(i + 1).cast(), _mm256_add_epi32(x, up));
        }
        i += L;
    }
    let run = _mm256_extract_epi32::<0>(carry) as u32;
    scalar::integral_row_u8_from(src, above, out, i, if i == 0 { 0 } else { run });
}
