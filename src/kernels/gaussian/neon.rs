//! NEON row passes. u8: widening multiply-accumulate by a scalar tap (`smlal`), exact
//! in i32, then the same rounding shifts as the scalar reference. f32: symmetric taps
//! with fused multiply-adds.

use std::arch::aarch64::*;

use super::scalar;

#[target_feature(enable = "neon")]
pub fn h_row_u8(p: &[i16], q: &[i16], out: &mut [i16]) {
    const L: usize = 8;
    let n = out.len();
    assert!(p.len() >= n + q.len() + L, "padded row too short");
    let mut i = 0;
    while i + L <= n {
        let (mut lo, mut hi) = (vdupq_n_s32(0), vdupq_n_s32(0));
        for (j, &c) in q.iter().enumerate() {
            // SAFETY: i + j + 8 <= n + q.len() <= p.len() (asserted above).
            let a = unsafe { vld1q_s16(p.as_ptr().add(i + j)) };
            lo = vmlal_n_s16(lo, vget_low_s16(a), c);
            hi = vmlal_high_n_s16(hi, a, c);
        }
        // Rounding shift right by 7 then narrow: (sum + 64) >> 7, as the reference.
        let v = vcombine_s16(vrshrn_n_s32::<7>(lo), vrshrn_n_s32::<7>(hi));
        // SAFETY: i + 8 <= n = out.len().
        unsafe { vst1q_s16(out.as_mut_ptr().add(i), v) };
        i += L;
    }
    scalar::h_row_u8_from(p, q, out, i);
}

#[target_feature(enable = "neon")]
pub fn v_row_u8(ring: &[i16], offsets: &[usize], q: &[i16], out: &mut [u8]) {
    const L: usize = 8;
    let n = out.len();
    assert!(offsets.len() == q.len(), "taps and rows differ");
    let full = n / L * L;
    super::check_ring_rows(ring, offsets, full);
    let mut i = 0;
    while i + L <= n {
        let (mut lo, mut hi) = (vdupq_n_s32(0), vdupq_n_s32(0));
        for (&off, &c) in offsets.iter().zip(q) {
            // SAFETY: off + i + 8 <= off + full <= ring.len() (asserted).
            let a = unsafe { vld1q_s16(ring.as_ptr().add(off + i)) };
            lo = vmlal_n_s16(lo, vget_low_s16(a), c);
            hi = vmlal_high_n_s16(hi, a, c);
        }
        // (sum + 2^20) >> 21, saturate to i16, then to u8.
        let lo = vqmovn_s32(vrshrq_n_s32::<21>(lo));
        let hi = vqmovn_s32(vrshrq_n_s32::<21>(hi));
        let v = vqmovun_s16(vcombine_s16(lo, hi));
        // SAFETY: i + 8 <= n = out.len().
        unsafe { vst1_u8(out.as_mut_ptr().add(i), v) };
        i += L;
    }
    scalar::v_row_u8_from(ring, offsets, q, out, i);
}

#[target_feature(enable = "neon")]
pub fn h_row_f32(p: &[f32], c: &[f32], out: &mut [f32]) {
    const L: usize = 4;
    let n = out.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && p.len() >= n + 2 * r,
        "padded row too short"
    );
    let mut i = 0;
    while i + L <= n {
        // SAFETY: loads read p[i ..= i + 2r + 3] with i + 4 <= n: below n + 2r <= p.len().
        unsafe {
            let at = |k: usize| vld1q_f32(p.as_ptr().add(i + k));
            let mut acc = vmulq_n_f32(at(r), c[r]);
            for j in 0..r {
                acc = vfmaq_n_f32(acc, vaddq_f32(at(j), at(2 * r - j)), c[j]);
            }
            vst1q_f32(out.as_mut_ptr().add(i), acc);
        }
        i += L;
    }
    scalar::h_row_f32_from(p, c, out, i);
}

/// [`h_row_f32`] on each of eight rows.
#[target_feature(enable = "neon")]
pub fn h_rows_f32_8(p: [&[f32]; 8], c: &[f32], out: [&mut [f32]; 8], _columns: &mut [f32]) {
    for (p, o) in p.into_iter().zip(out) {
        h_row_f32(p, c, o);
    }
}

#[target_feature(enable = "neon")]
pub fn v_row_f32(ring: &[f32], offsets: &[usize], c: &[f32], out: &mut [f32]) {
    const L: usize = 4;
    let n = out.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && offsets.len() == c.len(),
        "taps and rows differ"
    );
    super::check_ring_rows(ring, offsets, n);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: offsets[j] + i + 4 <= offsets[j] + n <= ring.len() (asserted).
        unsafe {
            let at = |k: usize| vld1q_f32(ring.as_ptr().add(offsets[k] + i));
            let mut acc = vmulq_n_f32(at(r), c[r]);
            for j in 0..r {
                acc = vfmaq_n_f32(acc, vaddq_f32(at(j), at(2 * r - j)), c[j]);
            }
            vst1q_f32(out.as_mut_ptr().add(i), acc);
        }
        i += L;
    }
    scalar::v_row_f32_from(ring, offsets, c, out, i);
}

/// [`scalar::v_row_f32_8`]: two four-row passes (`ahead` is not prefetched here).
#[target_feature(enable = "neon")]
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

/// [`scalar::v_row_f32_4`]: two two-row passes (a four-row NEON pass would fit the 32
/// registers; whether it pays must be measured on a board, not under qemu).
#[target_feature(enable = "neon")]
pub fn v_row_f32_4(ring: &[f32], offsets: &[usize], c: &[f32], out: [&mut [f32]; 4]) {
    let [a, b, d, e] = out;
    v_row_f32_2(ring, &offsets[..c.len() + 1], c, a, b);
    v_row_f32_2(ring, &offsets[2..], c, d, e);
}

/// [`scalar::v_row_f32_2`]: each ring row loaded once for both output rows; per row
/// the same operations in the same order as [`v_row_f32`], so the same bits.
#[target_feature(enable = "neon")]
pub fn v_row_f32_2(ring: &[f32], offsets: &[usize], c: &[f32], a: &mut [f32], b: &mut [f32]) {
    const L: usize = 4;
    let n = a.len();
    let r = c.len() / 2;
    assert!(
        !c.len().is_multiple_of(2) && offsets.len() == c.len() + 1 && b.len() == n,
        "taps and rows differ"
    );
    super::check_ring_rows(ring, offsets, n);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: offsets[j] + i + 4 <= offsets[j] + n <= ring.len() (asserted); the
        // stores write a[i..i + 4] and b[i..i + 4] with i + 4 <= n.
        unsafe {
            let at = |k: usize| vld1q_f32(ring.as_ptr().add(offsets[k] + i));
            let mut acc_a = vmulq_n_f32(at(r), c[r]);
            let mut acc_b = vmulq_n_f32(at(r + 1), c[r]);
            // a sums rows (j, 2r - j), b rows (j + 1, 2r + 1 - j), outermost first.
            let (mut a_lo, mut b_hi) = (at(0), at(2 * r + 1));
            for j in 0..r {
                let (a_hi, b_lo) = (at(2 * r - j), at(j + 1));
                acc_a = vfmaq_n_f32(acc_a, vaddq_f32(a_lo, a_hi), c[j]);
                acc_b = vfmaq_n_f32(acc_b, vaddq_f32(b_lo, b_hi), c[j]);
                (a_lo, b_hi) = (b_lo, a_hi);
            }
            vst1q_f32(a.as_mut_ptr().add(i), acc_a);
            vst1q_f32(b.as_mut_ptr().add(i), acc_b);
        }
        i += L;
    }
    scalar::v_row_f32_from(ring, &offsets[..c.len()], c, a, i);
    scalar::v_row_f32_from(ring, &offsets[1..], c, b, i);
}

#[target_feature(enable = "neon")]
pub fn h_row_u8_fast(p: &[u8], t: &[i16], out: &mut [i16]) {
    super::with_radius!(t.len() - 1, R => h_fast::<R>(p, t, out))
}

/// The fast horizontal pass for radius `R`, unrolled; pixels widened to Q6 as loaded.
#[inline]
#[target_feature(enable = "neon")]
fn h_fast<const R: usize>(p: &[u8], t: &[i16], out: &mut [i16]) {
    const L: usize = 8;
    let n = out.len();
    assert!(
        t.len() == R + 1 && p.len() >= n + 2 * R,
        "padded row too short"
    );
    let mut i = 0;
    while i + L <= n {
        // SAFETY: loads read p[i ..= i + 2R + 7] with i + 8 <= n: below n + 2R <= p.len().
        unsafe {
            let at = |k: usize| vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p.as_ptr().add(i + k))));
            let q6 = |v: int16x8_t| vshlq_n_s16::<6>(v);
            // sqrdmulh is (2ab + 2^15) >> 16 = (ab + 2^14) >> 15, as the reference.
            let mut acc = vqrdmulhq_n_s16(q6(at(R)), t[0]);
            super::for_taps!(R, d => {
                let pair = q6(vaddq_s16(at(R - d), at(R + d)));
                acc = vaddq_s16(acc, vqrdmulhq_n_s16(pair, t[d]));
            });
            vst1q_s16(out.as_mut_ptr().add(i), acc);
        }
        i += L;
    }
    scalar::h_row_u8_fast_from(p, t, out, i);
}

#[target_feature(enable = "neon")]
pub fn v_row_u8_fast(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    super::with_radius!(t.len() - 1, R => v_fast::<R>(ring, offsets, t, out))
}

/// The fast vertical pass for radius `R`, unrolled.
#[inline]
#[target_feature(enable = "neon")]
fn v_fast<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    const L: usize = 8;
    let n = out.len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 1,
        "taps and rows differ"
    );
    let full = n / L * L;
    let rows: [*const i16; 31] = super::ring_row_ptrs(ring, offsets, full);
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 8 <= ring start + offsets[k] + full <= ring end (asserted).
        unsafe {
            let at = |k: usize| vld1q_s16(rows[k].add(i));
            let mut acc = vqrdmulhq_n_s16(at(R), t[0]);
            super::for_taps!(R, d => {
                acc = vaddq_s16(acc, vqrdmulhq_n_s16(vaddq_s16(at(R - d), at(R + d)), t[d]));
            });
            // (acc + 32) >> 6, then saturate to u8.
            let v = vqmovun_s16(vshrq_n_s16::<6>(vaddq_s16(acc, vdupq_n_s16(32))));
            vst1_u8(out.as_mut_ptr().add(i), v);
        }
        i += L;
    }
    scalar::v_row_u8_fast_from(ring, offsets, t, out, i);
}

/// [`scalar::v_row_u8_fast4`]: two two-row passes (whether four rows pay must be
/// measured on a board).
#[target_feature(enable = "neon")]
pub fn v_row_u8_fast4(ring: &[i16], offsets: &[usize], t: &[i16], out: [&mut [u8]; 4]) {
    let [a, b, d, e] = out;
    v_row_u8_fast2(ring, &offsets[..2 * t.len()], t, a, b);
    v_row_u8_fast2(ring, &offsets[2..], t, d, e);
}

#[target_feature(enable = "neon")]
pub fn v_row_u8_fast2(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    super::with_radius!(t.len() - 1, R => v_fast2::<R>(ring, offsets, t, a, b))
}

/// Two output rows of the fast vertical pass from `2R + 2` ring rows, each row loaded
/// once: `a` sums rows (R − d, R + d), `b` rows (R + 1 − d, R + 1 + d).
// The last unrolled step carries rows no step reads.
#[allow(unused_assignments)]
#[inline]
#[target_feature(enable = "neon")]
fn v_fast2<const R: usize>(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    const L: usize = 8;
    let n = a.len();
    assert!(
        t.len() == R + 1 && offsets.len() == 2 * R + 2 && b.len() == n,
        "taps and rows differ"
    );
    let full = n / L * L;
    let rows: [*const i16; 32] = super::ring_row_ptrs(ring, offsets, full);
    let narrow = |x: int16x8_t| vqmovun_s16(vshrq_n_s16::<6>(vaddq_s16(x, vdupq_n_s16(32))));
    let mut i = 0;
    while i + L <= n {
        // SAFETY: rows[k] + i + 8 <= ring start + offsets[k] + full <= ring end (asserted);
        // the stores write a[i..i + 8] and b[i..i + 8] with i + 8 <= n.
        unsafe {
            let at = |k: usize| vld1q_s16(rows[k].add(i));
            // lo: row R + 1 − d, b's upper row; hi: row R + d, a's lower row.
            let (mut lo, mut hi) = (at(R), at(R + 1));
            let mut acc_a = vqrdmulhq_n_s16(lo, t[0]);
            let mut acc_b = vqrdmulhq_n_s16(hi, t[0]);
            super::for_taps!(R, d => {
                let (up, down) = (at(R - d), at(R + 1 + d));
                acc_a = vaddq_s16(acc_a, vqrdmulhq_n_s16(vaddq_s16(up, hi), t[d]));
                acc_b = vaddq_s16(acc_b, vqrdmulhq_n_s16(vaddq_s16(lo, down), t[d]));
                (lo, hi) = (up, down);
            });
            vst1_u8(a.as_mut_ptr().add(i), narrow(acc_a));
            vst1_u8(b.as_mut_ptr().add(i), narrow(acc_b));
        }
        i += L;
    }
    scalar::v_row_u8_fast_from(ring, &offsets[..2 * R + 1], t, a, i);
    scalar::v_row_u8_fast_from(ring, &offsets[1..], t, b, i);
}
