//! NEON: `tbl` looks up 64 entries held in four registers and yields 0 for larger
//! indices; `tbx` leaves those lanes alone instead. One `tbl` and three `tbx` over the
//! table's four 64-byte quarters (index minus 64, 128, 192; wrapped indices fall out of
//! range) look up 16 pixels.

use std::arch::aarch64::*;

use super::scalar;

const LANES: usize = 16;

/// `dst[i] = table[src[i]]` for `i < min(src.len(), dst.len())`.
#[target_feature(enable = "neon")]
pub fn lut_row(src: &[u8], dst: &mut [u8], table: &[u8; 256]) {
    let n = src.len().min(dst.len());
    if n < LANES {
        return scalar::lut_row(&src[..n], &mut dst[..n], table);
    }
    // SAFETY: four 64-byte loads cover exactly the 256-byte table.
    let quarters = unsafe {
        let p = table.as_ptr();
        [
            vld1q_u8_x4(p),
            vld1q_u8_x4(p.add(64)),
            vld1q_u8_x4(p.add(128)),
            vld1q_u8_x4(p.add(192)),
        ]
    };
    let step = vdupq_n_u8(64);
    let mut i = 0;
    loop {
        // The last vector may overlap the previous one; `dst` never aliases `src`.
        let at = i.min(n - LANES);
        // SAFETY: at + 16 <= n <= src.len() and dst.len().
        unsafe {
            let idx = vld1q_u8(src.as_ptr().add(at));
            let mut r = vqtbl4q_u8(quarters[0], idx);
            let i1 = vsubq_u8(idx, step);
            r = vqtbx4q_u8(r, quarters[1], i1);
            let i2 = vsubq_u8(i1, step);
            r = vqtbx4q_u8(r, quarters[2], i2);
            let i3 = vsubq_u8(i2, step);
            r = vqtbx4q_u8(r, quarters[3], i3);
            vst1q_u8(dst.as_mut_ptr().add(at), r);
        }
        i += LANES;
        if i >= n {
            break;
        }
    }
}
