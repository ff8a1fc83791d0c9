//! NEON: a 4-lane prefix sum (two `ext`-shift-and-adds), plus the running total and the
//! row above.

use std::arch::aarch64::*;

use super::scalar;

#[target_feature(enable = "neon")]
pub fn integral_row_u8(src: &[u8], above: &[u32], out: &mut [u32]) {
    const L: usize = 8;
    let n = src.len();
    assert!(above.len() > n && out.len() > n, "rows too short");
    out[0] = 0;
    let zero = vdupq_n_u32(0);
    let mut carry = 0u32;
    let mut i = 0;
    while i + L <= n {
        // SAFETY: src[i..i + 8], above and out [i + 1..i + 9] lie inside (asserted n < len).
        unsafe {
            let bytes = vmovl_u8(vld1_u8(src.as_ptr().add(i)));
            for (half, at) in [
                (vmovl_u16(vget_low_u16(bytes)), i),
                (vmovl_high_u16(bytes), i + 4),
            ] {
                let mut x = half;
                x = vaddq_u32(x, vextq_u32::<3>(zero, x));
                x = vaddq_u32(x, vextq_u32::<2>(zero, x));
                x = vaddq_u32(x, vdupq_n_u32(carry));
                carry = vgetq_lane_u32::<3>(x);
                let up = vld1q_u32(above.as_ptr().add(at + 1));
                vst1q_u32(out.as_mut_ptr().add(at + 1), vaddq_u32(x, up));
            }
        }
        i += L;
    }
    scalar::integral_row_u8_from(src, above, out, i, carry);
}
