//! The reference row passes. Every SIMD variant computes exactly these sums (integers:
//! bit-exact; floats: same formula, possibly fused multiply-adds).
//!
//! u8 fixed point: taps `q` are Q14 integers summing to 2^14. The horizontal pass turns
//! pixels into Q7 (`(Σ q·p + 2^6) >> 7`, at most 32640: fits i16), the vertical pass
//! sums Q7 × Q14 exactly in i32 and rounds once to u8 (`(Σ + 2^20) >> 21`).

/// Horizontal u8 pass: `out[i] = (Σ_j q[j]·p[i+j] + 64) >> 7`. `p` is the border-padded
/// row as i16; `p.len() >= out.len() + q.len() - 1`.
pub fn h_row_u8(p: &[i16], q: &[i16], out: &mut [i16]) {
    h_row_u8_from(p, q, out, 0);
}

/// [`h_row_u8`] for `i` in `from..out.len()` only (the SIMD variants' tail).
pub fn h_row_u8_from(p: &[i16], q: &[i16], out: &mut [i16], from: usize) {
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let window = &p[i..i + q.len()];
        let sum: i32 = window
            .iter()
            .zip(q)
            .map(|(&a, &c)| i32::from(a) * i32::from(c))
            .sum();
        *o = ((sum + (1 << 6)) >> 7) as i16;
    }
}

/// Vertical u8 pass: `out[i] = clamp((Σ_j q[j]·ring[offsets[j] + i] + 2^20) >> 21)`.
pub fn v_row_u8(ring: &[i16], offsets: &[usize], q: &[i16], out: &mut [u8]) {
    v_row_u8_from(ring, offsets, q, out, 0);
}

/// [`v_row_u8`] for `i` in `from..out.len()` only.
pub fn v_row_u8_from(ring: &[i16], offsets: &[usize], q: &[i16], out: &mut [u8], from: usize) {
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let sum: i32 = offsets
            .iter()
            .zip(q)
            .map(|(&off, &c)| i32::from(ring[off + i]) * i32::from(c))
            .sum();
        *o = ((sum + (1 << 20)) >> 21).clamp(0, 255) as u8;
    }
}

/// Horizontal f32 pass with a symmetric kernel `c` (odd length `2r+1`):
/// `out[i] = c[r]·p[i+r] + Σ_{j<r} c[j]·(p[i+j] + p[i+2r-j])`.
pub fn h_row_f32(p: &[f32], c: &[f32], out: &mut [f32]) {
    h_row_f32_from(p, c, out, 0);
}

/// [`h_row_f32`] on each of eight rows (`columns`: the AVX-512 form's scratch).
pub fn h_rows_f32_8(p: [&[f32]; 8], c: &[f32], out: [&mut [f32]; 8], _columns: &mut [f32]) {
    for (p, o) in p.into_iter().zip(out) {
        h_row_f32(p, c, o);
    }
}

/// [`h_row_f32`] for `i` in `from..out.len()` only.
pub fn h_row_f32_from(p: &[f32], c: &[f32], out: &mut [f32], from: usize) {
    let r = c.len() / 2;
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let mut acc = c[r] * p[i + r];
        for j in 0..r {
            acc += c[j] * (p[i + j] + p[i + 2 * r - j]);
        }
        *o = acc;
    }
}

/// Vertical f32 pass with a symmetric kernel: rows `offsets[j]` of `ring`, same formula.
pub fn v_row_f32(ring: &[f32], offsets: &[usize], c: &[f32], out: &mut [f32]) {
    v_row_f32_from(ring, offsets, c, out, 0);
}

/// [`v_row_f32`] for `i` in `from..out.len()` only.
pub fn v_row_f32_from(ring: &[f32], offsets: &[usize], c: &[f32], out: &mut [f32], from: usize) {
    let r = c.len() / 2;
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let mut acc = c[r] * ring[offsets[r] + i];
        for j in 0..r {
            acc += c[j] * (ring[offsets[j] + i] + ring[offsets[2 * r - j] + i]);
        }
        *o = acc;
    }
}

/// Two vertical f32 rows at once: `a` from rows `offsets[..2r+1]`, `b` from
/// `offsets[1..]` (`2r + 2` offsets). The SIMD levels load each ring row once for both;
/// here it is [`v_row_f32`] twice, and every level gives the same bits as its one-row pass.
pub fn v_row_f32_2(ring: &[f32], offsets: &[usize], c: &[f32], a: &mut [f32], b: &mut [f32]) {
    v_row_f32(ring, &offsets[..c.len()], c, a);
    v_row_f32(ring, &offsets[1..], c, b);
}

/// Four vertical f32 rows at once: row `m` from `offsets[m..m + 2r + 1]` (`2r + 4`
/// offsets). AVX-512 loads each ring row once for all four; here it is [`v_row_f32_2`]
/// twice, and every level gives the same bits as its one-row pass.
pub fn v_row_f32_4(ring: &[f32], offsets: &[usize], c: &[f32], out: [&mut [f32]; 4]) {
    let [a, b, d, e] = out;
    v_row_f32_2(ring, &offsets[..c.len() + 1], c, a, b);
    v_row_f32_2(ring, &offsets[2..], c, d, e);
}

/// Eight vertical f32 rows at once: row `m` from `offsets[m..m + 2r + 1]` (`2r + 8`
/// offsets). AVX-512 loads each ring row once for all eight; here it is
/// [`v_row_f32_4`] twice, and every level gives the same bits as its one-row pass.
/// `ahead`: the rows (by offset) the next step will add, which AVX-512 asks into L2 as
/// it goes (any offsets; a hint, read by no level).
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

/// `(a·b + 2^14) >> 15`: the rounding high multiply of `vpmulhrsw` / `sqrdmulh`.
#[inline]
pub fn mulhrs(a: i16, b: i16) -> i16 {
    ((i32::from(a) * i32::from(b) + (1 << 14)) >> 15) as i16
}

/// Fast horizontal u8 pass for kernels up to 31 taps, all in 16 bits: pixels of the
/// padded row `p` scaled by 64 (Q6) as they are read, `t[d]` the Q15 tap at distance `d`
/// (a symmetric kernel of `2·(t.len()−1)+1` taps).
/// `out[i] = Σ_d mulhrs(q6(p[c−d]) + q6(p[c+d]), t[d])` (the centre counted once), with
/// `c = i + r`.
pub fn h_row_u8_fast(p: &[u8], t: &[i16], out: &mut [i16]) {
    h_row_u8_fast_from(p, t, out, 0);
}

/// [`h_row_u8_fast`] for `i` in `from..out.len()` only.
pub fn h_row_u8_fast_from(p: &[u8], t: &[i16], out: &mut [i16], from: usize) {
    let r = t.len() - 1;
    let q6 = |v: u8| i16::from(v) << 6;
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let c = i + r;
        let mut acc = mulhrs(q6(p[c]), t[0]);
        for d in 1..=r {
            acc = acc.wrapping_add(mulhrs(q6(p[c - d]) + q6(p[c + d]), t[d]));
        }
        *o = acc;
    }
}

/// Fast vertical u8 pass: ring rows (Q6) at `offsets` (`2r+1` rows, centre at `r`),
/// the same sums, then `clamp((acc + 32) >> 6)`.
pub fn v_row_u8_fast(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8]) {
    v_row_u8_fast_from(ring, offsets, t, out, 0);
}

/// [`v_row_u8_fast`] for `i` in `from..out.len()` only.
pub fn v_row_u8_fast_from(ring: &[i16], offsets: &[usize], t: &[i16], out: &mut [u8], from: usize) {
    let r = t.len() - 1;
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let at = |k: usize| ring[offsets[k] + i];
        let mut acc = mulhrs(at(r), t[0]);
        for d in 1..=r {
            acc = acc.wrapping_add(mulhrs(at(r - d).wrapping_add(at(r + d)), t[d]));
        }
        *o = ((i32::from(acc) + 32) >> 6).clamp(0, 255) as u8;
    }
}

/// Four fast vertical u8 rows at once: row `m` from `offsets[m..m + 2r + 1]` (`2r + 4`
/// offsets); see [`v_row_f32_4`].
pub fn v_row_u8_fast4(ring: &[i16], offsets: &[usize], t: &[i16], out: [&mut [u8]; 4]) {
    let [a, b, d, e] = out;
    v_row_u8_fast2(ring, &offsets[..2 * t.len()], t, a, b);
    v_row_u8_fast2(ring, &offsets[2..], t, d, e);
}

/// Two fast vertical u8 rows at once: `a` from rows `offsets[..2r+1]`, `b` from
/// `offsets[1..]` (`2r + 2` offsets); see [`v_row_f32_2`].
pub fn v_row_u8_fast2(ring: &[i16], offsets: &[usize], t: &[i16], a: &mut [u8], b: &mut [u8]) {
    let rows = 2 * t.len() - 1;
    v_row_u8_fast(ring, &offsets[..rows], t, a);
    v_row_u8_fast(ring, &offsets[1..], t, b);
}
