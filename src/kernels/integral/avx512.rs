//! AVX-512: a 16-lane prefix sum in registers (four shift-and-add steps with `valignd`),
//! plus the running total of the blocks before, plus the row above, in one pass.

use std::arch::x86_64::*;

use super::scalar;

#[target_feature(enable = "avx512f,avx512bw")]
pub fn integral_row_u8(src: &[u8], above: &[u32], out: &mut [u32]) {
    const L: usize = 16;
    let n = src.len();
    assert!(above.len() > n && out.len() > n, "rows too short");
    out[0] = 0;
    let zero = _mm512_setzero_si512();
    let last = _mm512_set1_epi32(15);
    let mut carry = zero;
    let mut i = 0;
    while i + L <= n {
        // SAFETY: src[i..i + 16], above and out [i + 1..i + 17] lie inside (asserted n < len).
        unsafe {
            let mut x = _mm512_cvtepu8_epi32(_mm_loadu_si128(src.as_ptr().add(i).cast()));
            x = _mm512_add_epi32(x, _mm512_alignr_epi32::<15>(x, zero));
            x = _mm512_add_epi32(x, _mm512_alignr_epi32::<14>(x, zero));
            x = _mm512_add_epi32(x, _mm512_alignr_epi32::<12>(x, zero));
            x = _mm512_add_epi32(x, _mm512_alignr_epi32::<8>(x, zero));
            x = _mm512_add_epi32(x, carry);
            carry = _mm512_permutexvar_epi32(last, x);
            let up = _mm512_loadu_si512(above.as_ptr().add(i + 1).cast());
            _mm512_storeu_si512(out.as_mut_ptr().add(i + 1).cast(), _mm512_add_epi32(x, up));
        }
        i += L;
    }
    let run = _mm_cvtsi128_si32(_mm512_castsi512_si128(carry)) as u32;
    scalar::integral_row_u8_from(src, above, out, i, if i == 0 { 0 } else { run });
}
