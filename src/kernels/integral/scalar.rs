//! The reference row of an integral image: a running sum plus the row above.

/// `out[0] = 0`, `out[i + 1] = above[i + 1] + Σ_{j<=i} src[j]` (wrapping u32; callers
/// bound the image so it never wraps). `out` and `above` are `src.len() + 1` long.
pub fn integral_row_u8(src: &[u8], above: &[u32], out: &mut [u32]) {
    integral_row_u8_from(src, above, out, 0, 0);
}

/// [`integral_row_u8`] from column `from` on, with `run` the sum of `src[..from]`.
pub fn integral_row_u8_from(src: &[u8], above: &[u32], out: &mut [u32], from: usize, mut run: u32) {
    if from == 0 {
        out[0] = 0;
    }
    for i in from..src.len() {
        run = run.wrapping_add(u32::from(src[i]));
        out[i + 1] = above[i + 1].wrapping_add(run);
    }
}
