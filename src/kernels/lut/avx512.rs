//! AVX-512. With VBMI, `vpermi2b` indexes a 128-byte table held in two registers, so two
//! permutes and one blend on bit 7 look up 64 pixels. Without VBMI (Skylake-X), the
//! AVX2 slice method runs on 64 bytes with mask blends. Row tails use masked loads and
//! stores, which never touch the masked-off bytes.

use std::arch::x86_64::*;

const LANES: usize = 64;

/// Mask of the first `n` (< 64) byte lanes.
#[inline]
fn tail_mask(n: usize) -> __mmask64 {
    debug_assert!(n < LANES);
    (1u64 << n) - 1
}

/// Runs `lookup` over a row: full vectors, then one masked vector for the tail.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn for_each_vector(src: &[u8], dst: &mut [u8], mut lookup: impl FnMut(__m512i) -> __m512i) {
    let n = src.len().min(dst.len());
    let mut i = 0;
    while i + LANES <= n {
        // SAFETY: i + 64 <= n <= src.len() and dst.len().
        unsafe {
            let idx = _mm512_loadu_si512(src.as_ptr().add(i).cast());
            _mm512_storeu_si512(dst.as_mut_ptr().add(i).cast(), lookup(idx));
        }
        i += LANES;
    }
    if i < n {
        let m = tail_mask(n - i);
        // SAFETY: only the first n - i < 64 bytes are read and written (masked); masked-off
        // lanes are not accessed and cannot fault.
        unsafe {
            let idx = _mm512_maskz_loadu_epi8(m, src.as_ptr().add(i).cast());
            _mm512_mask_storeu_epi8(dst.as_mut_ptr().add(i).cast(), m, lookup(idx));
        }
    }
}

/// `dst[i] = table[src[i]]` with VBMI byte permutes.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub fn lut_row_vbmi(src: &[u8], dst: &mut [u8], table: &[u8; 256]) {
    // SAFETY: four 64-byte loads cover exactly the 256-byte table.
    let [t0, t1, t2, t3] = unsafe {
        let p = table.as_ptr();
        [0, 64, 128, 192].map(|o| _mm512_loadu_si512(p.add(o).cast()))
    };
    for_each_vector(src, dst, |idx| {
        let low = _mm512_permutex2var_epi8(t0, idx, t1); // table[idx & 127]
        let high = _mm512_permutex2var_epi8(t2, idx, t3); // table[128 + (idx & 127)]
        _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), low, high)
    });
}

/// `dst[i] = table[src[i]]` with in-lane shuffles (AVX-512 F/BW only).
#[target_feature(enable = "avx512f,avx512bw")]
pub fn lut_row(src: &[u8], dst: &mut [u8], table: &[u8; 256]) {
    let mut slices = [_mm512_setzero_si512(); 16];
    for (k, slice) in slices.iter_mut().enumerate() {
        // SAFETY: bytes 16k..16k+16 lie inside the 256-byte table.
        let part = unsafe { _mm_loadu_si128(table.as_ptr().add(16 * k).cast()) };
        *slice = _mm512_broadcast_i32x4(part);
    }
    for_each_vector(src, dst, |idx| {
        let low = _mm512_and_si512(idx, _mm512_set1_epi8(0x0f));
        let mut r = [_mm512_setzero_si512(); 16];
        for k in 0..16 {
            r[k] = _mm512_shuffle_epi8(slices[k], low);
        }
        let mut width = 16;
        for bit in [0x10, 0x20, 0x40, 0x80u8] {
            let m = _mm512_test_epi8_mask(idx, _mm512_set1_epi8(bit as i8));
            width /= 2;
            for j in 0..width {
                r[j] = _mm512_mask_blend_epi8(m, r[2 * j], r[2 * j + 1]);
            }
        }
        r[0]
    });
}
