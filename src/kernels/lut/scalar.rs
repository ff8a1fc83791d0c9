//! The reference: one table load per pixel. Indexing a `[u8; 256]` with a `u8` needs no
//! bounds check, so this compiles to a tight load-load-store loop.

/// `dst[i] = table[src[i]]` for `i < min(src.len(), dst.len())`.
pub fn lut_row(src: &[u8], dst: &mut [u8], table: &[u8; 256]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = table[usize::from(s)];
    }
}
