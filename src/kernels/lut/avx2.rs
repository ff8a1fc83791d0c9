//! AVX2: `vpshufb` looks up 16 entries per 128-bit lane, so the table is cut into 16
//! slices of 16 bytes; all 16 are looked up with the index's low nibble and a blend tree
//! on bits 4..7 keeps the right one. 16 shuffles + 15 blends per 32 pixels.

use std::arch::x86_64::*;

use super::scalar;

const LANES: usize = 32;

/// `dst[i] = table[src[i]]` for `i < min(src.len(), dst.len())`.
#[target_feature(enable = "avx2")]
pub fn lut_row(src: &[u8], dst: &mut [u8], table: &[u8; 256]) {
    let n = src.len().min(dst.len());
    if n < LANES {
        return scalar::lut_row(&src[..n], &mut dst[..n], table);
    }
    let mut slices = [_mm256_setzero_si256(); 16];
    for (k, slice) in slices.iter_mut().enumerate() {
        // SAFETY: bytes 16k..16k+16 lie inside the 256-byte table.
        let part = unsafe { _mm_loadu_si128(table.as_ptr().add(16 * k).cast()) };
        *slice = _mm256_broadcastsi128_si256(part);
    }
    let mut i = 0;
    loop {
        // The last vector may overlap the previous one; recomputing pixels is harmless
        // because `dst` never aliases `src`.
        let at = i.min(n - LANES);
        // SAFETY: at + 32 <= n <= src.len() and dst.len().
        unsafe {
            let idx = _mm256_loadu_si256(src.as_ptr().add(at).cast());
            _mm256_storeu_si256(dst.as_mut_ptr().add(at).cast(), lookup(&slices, idx));
        }
        i += LANES;
        if i >= n {
            break;
        }
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn lookup(slices: &[__m256i; 16], idx: __m256i) -> __m256i {
    let low = _mm256_and_si256(idx, _mm256_set1_epi8(0x0f));
    let mut r = [_mm256_setzero_si256(); 16];
    for k in 0..16 {
        r[k] = _mm256_shuffle_epi8(slices[k], low);
    }
    // blendv picks by bit 7 of each byte: shifting the 16-bit lanes left by 3, 2, 1, 0
    // moves index bits 4, 5, 6, 7 there (bits crossing into the next byte land low).
    let bit4 = _mm256_slli_epi16::<3>(idx);
    for j in 0..8 {
        r[j] = _mm256_blendv_epi8(r[2 * j], r[2 * j + 1], bit4);
    }
    let bit5 = _mm256_slli_epi16::<2>(idx);
    for j in 0..4 {
        r[j] = _mm256_blendv_epi8(r[2 * j], r[2 * j + 1], bit5);
    }
    let bit6 = _mm256_slli_epi16::<1>(idx);
    for j in 0..2 {
        r[j] = _mm256_blendv_epi8(r[2 * j], r[2 * j + 1], bit6);
    }
    _mm256_blendv_epi8(r[0], r[1], idx)
}
