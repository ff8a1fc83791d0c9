//! Byte transposes: the 16x16 register forms (SSE2 on x86_64, NEON on aarch64) that
//! kernels running 16 rows side by side use (error diffusion), and band forms between 32
//! rows and columns of 32 lanes (the horizontal morphology pass), at a level: plain byte
//! loops at `Scalar` (the reference), on x86_64 both halves of a column in one AVX2
//! transpose (a 16x16 tile in each 128-bit half), on NEON a tile at a time.

use super::SimdLevel;

/// Lanes of one column: the rows transposed together.
pub(crate) const ROWS: usize = 32;

/// Columns per transposed tile: [`rows_to_columns`] takes column counts that are
/// multiples of it.
pub(crate) const TILE: usize = 16;

/// One column of a 32-row band: byte `r` belongs to row `r`.
pub(crate) type Column = [u8; ROWS];

/// Writes column `x` of the 32 rows `src[r * stride..]` to `cols[x]`, for every `x <
/// cols.len()`. `cols.len()` must be a multiple of 16 and `src` must hold 31 strides and
/// `cols.len()` bytes (checked: a panic, never a stray read).
pub(crate) fn rows_to_columns(level: SimdLevel, src: &[u8], stride: usize, cols: &mut [Column]) {
    let n = cols.len();
    assert!(
        n.is_multiple_of(TILE) && stride >= n && src.len() >= (ROWS - 1) * stride + n,
        "{ROWS} rows of {n} bytes at stride {stride} in {} bytes",
        src.len()
    );
    match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512 | SimdLevel::Avx512Vbmi
            if SimdLevel::Avx2.is_supported() =>
        {
            // SAFETY: AVX2 checked by the guard; the assert above bounds every read.
            unsafe { x86::rows_to_columns(src, stride, cols) }
        }
        #[cfg(target_arch = "aarch64")]
        SimdLevel::Neon if level.is_supported() => {
            // SAFETY: NEON checked by the guard; the assert above bounds every read.
            unsafe { neon::rows_to_columns(src, stride, cols) }
        }
        _ => {
            for (x, col) in cols.iter_mut().enumerate() {
                for (r, lane) in col.iter_mut().enumerate() {
                    *lane = src[r * stride + x];
                }
            }
        }
    }
}

/// Writes lane `r` of `cols[x]` to `rows[r][x]`, for every row given (up to 32) and every
/// `x < rows[r].len()`; all rows the same length, `cols` at least that long rounded up
/// to 16 (checked).
pub(crate) fn columns_to_rows(level: SimdLevel, cols: &[Column], rows: &mut [&mut [u8]]) {
    let Some(n) = rows.first().map(|r| r.len()) else {
        return;
    };
    assert!(
        rows.len() <= ROWS
            && rows.iter().all(|r| r.len() == n)
            && cols.len() >= n.next_multiple_of(TILE),
        "{} rows of {n} bytes from {} columns",
        rows.len(),
        cols.len()
    );
    match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512 | SimdLevel::Avx512Vbmi
            if SimdLevel::Avx2.is_supported() =>
        {
            // SAFETY: AVX2 checked by the guard; the assert above bounds every access.
            unsafe { x86::columns_to_rows(cols, rows) }
        }
        #[cfg(target_arch = "aarch64")]
        SimdLevel::Neon if level.is_supported() => {
            // SAFETY: NEON checked by the guard; the assert above bounds every access.
            unsafe { neon::columns_to_rows(cols, rows) }
        }
        _ => {
            for (x, col) in cols[..n].iter().enumerate() {
                for (row, &lane) in rows.iter_mut().zip(col) {
                    row[x] = lane;
                }
            }
        }
    }
}

/// Columns `x0 .. x0 + 16` of a transposed tile (`tile[r]`: row r's 16 bytes there) into
/// the rows given, cut at their end: the last columns, or fewer than 32 rows.
#[cold]
fn store_tile_part(tile: &[[u8; TILE]; ROWS], rows: &mut [&mut [u8]], x0: usize) {
    for (row, bytes) in rows.iter_mut().zip(tile) {
        let m = TILE.min(row.len() - x0);
        row[x0..x0 + m].copy_from_slice(&bytes[..m]);
    }
}

/// The 16x16 byte transpose on SSE2, which every x86_64 CPU has, and the band
/// transposes on AVX2.
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use std::arch::x86_64::*;

    use super::{Column, ROWS, TILE};

    /// Afterwards byte `i` of vector `j` is byte `j` of input vector `i`. Each of the
    /// four rounds interleaves vector `k` with vector `k + 8` (bytes, low and high
    /// halves), which moves the top bit of a byte's vector index to the bottom of its
    /// position and the top bit of its position to the bottom of its vector index; after
    /// four rounds the two have traded places.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(crate) fn transpose_bytes(mut m: [__m128i; 16]) -> [__m128i; 16] {
        for _ in 0..4 {
            let mut next = [_mm_setzero_si128(); 16];
            for k in 0..8 {
                next[2 * k] = _mm_unpacklo_epi8(m[k], m[k + 8]);
                next[2 * k + 1] = _mm_unpackhi_epi8(m[k], m[k + 8]);
            }
            m = next;
        }
        m
    }

    /// Two 16x16 tiles at once, one in each 128-bit half: [`transpose_bytes`]'s rounds
    /// work half by half.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn transpose_tile_pairs(mut m: [__m256i; 16]) -> [__m256i; 16] {
        for _ in 0..4 {
            let mut next = [_mm256_setzero_si256(); 16];
            for k in 0..8 {
                next[2 * k] = _mm256_unpacklo_epi8(m[k], m[k + 8]);
                next[2 * k + 1] = _mm256_unpackhi_epi8(m[k], m[k + 8]);
            }
            m = next;
        }
        m
    }

    /// [`super::rows_to_columns`] on AVX2: per 16 columns, vector `r` holds row `r`'s
    /// bytes in its low half and row `r + 16`'s in its high half; transposed, vector `j`
    /// is column `x0 + j` whole.
    ///
    /// # Safety
    /// AVX2 must be available; `src` must hold 31 strides and `cols.len()` bytes, a
    /// multiple of 16.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows_to_columns(src: &[u8], stride: usize, cols: &mut [Column]) {
        let src = src.as_ptr();
        let half = TILE * stride;
        for (x0, tile) in (0..cols.len())
            .step_by(TILE)
            .zip(cols.chunks_exact_mut(TILE))
        {
            // SAFETY: rows r and r + 16 hold bytes x0 .. x0 + 16 inside `src` (caller).
            let m: [__m256i; 16] = std::array::from_fn(|r| unsafe {
                let at = src.add(r * stride + x0);
                _mm256_loadu2_m128i(at.add(half).cast(), at.cast())
            });
            for (col, v) in tile.iter_mut().zip(transpose_tile_pairs(m)) {
                // SAFETY: `col` is 32 bytes.
                unsafe { _mm256_storeu_si256(col.as_mut_ptr().cast(), v) };
            }
        }
    }

    /// [`super::columns_to_rows`] on AVX2: per 16 columns, transposed, vector `r` holds
    /// row `r`'s 16 bytes in its low half and row `r + 16`'s in its high half, stored
    /// straight into the rows; fewer rows or the last columns through a tile on the
    /// stack.
    ///
    /// # Safety
    /// AVX2 must be available; at most 32 rows, all of one length `n`, and `cols` at
    /// least `n` rounded up to 16 long.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn columns_to_rows(cols: &[Column], rows: &mut [&mut [u8]]) {
        let n = rows[0].len();
        let full = rows.len() == ROWS;
        for (x0, tile) in (0..n).step_by(TILE).zip(cols.chunks_exact(TILE)) {
            // SAFETY: every column is 32 bytes.
            let m: [__m256i; 16] =
                std::array::from_fn(|j| unsafe { _mm256_loadu_si256(tile[j].as_ptr().cast()) });
            let m = transpose_tile_pairs(m);
            if full && x0 + TILE <= n {
                let (upper, lower) = rows.split_at_mut(TILE);
                for ((a, b), v) in upper.iter_mut().zip(lower).zip(m) {
                    // SAFETY: bytes x0 .. x0 + 16 lie inside each row (checked above).
                    unsafe {
                        _mm256_storeu2_m128i(
                            b.as_mut_ptr().add(x0).cast(),
                            a.as_mut_ptr().add(x0).cast(),
                            v,
                        )
                    };
                }
            } else {
                let mut part = [[0u8; TILE]; ROWS];
                for (r, v) in m.into_iter().enumerate() {
                    // SAFETY: rows r and r + 16 of `part` are 16 bytes each.
                    unsafe {
                        _mm256_storeu2_m128i(
                            part[r + TILE].as_mut_ptr().cast(),
                            part[r].as_mut_ptr().cast(),
                            v,
                        )
                    };
                }
                super::store_tile_part(&part, rows, x0);
            }
        }
    }
}

/// The 16x16 byte transpose on NEON (the x86 one with `zip1`/`zip2` for the unpacks),
/// and the band transposes a tile (16 rows, 16 columns) at a time.
#[cfg(target_arch = "aarch64")]
pub(crate) mod neon {
    use std::arch::aarch64::*;

    use super::{Column, ROWS, TILE};

    /// Byte `i` of vector `j` becomes byte `j` of vector `i`.
    #[inline]
    #[target_feature(enable = "neon")]
    pub(crate) fn transpose_bytes(mut m: [uint8x16_t; 16]) -> [uint8x16_t; 16] {
        for _ in 0..4 {
            let mut next = [vdupq_n_u8(0); 16];
            for k in 0..8 {
                next[2 * k] = vzip1q_u8(m[k], m[k + 8]);
                next[2 * k + 1] = vzip2q_u8(m[k], m[k + 8]);
            }
            m = next;
        }
        m
    }

    /// [`super::rows_to_columns`] on NEON.
    ///
    /// # Safety
    /// NEON must be available; `src` must hold 31 strides and `cols.len()` bytes, a
    /// multiple of 16.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn rows_to_columns(src: &[u8], stride: usize, cols: &mut [Column]) {
        for (x0, tile) in (0..cols.len())
            .step_by(TILE)
            .zip(cols.chunks_exact_mut(TILE))
        {
            for half in [0, TILE] {
                // SAFETY: bytes (half + r) * stride + x0 .. + 16 lie inside `src` (caller).
                let m: [uint8x16_t; 16] = std::array::from_fn(|r| unsafe {
                    vld1q_u8(src.as_ptr().add((half + r) * stride + x0))
                });
                for (col, v) in tile.iter_mut().zip(transpose_bytes(m)) {
                    // SAFETY: `col[half..]` holds 16 bytes.
                    unsafe { vst1q_u8(col[half..].as_mut_ptr(), v) };
                }
            }
        }
    }

    /// [`super::columns_to_rows`] on NEON.
    ///
    /// # Safety
    /// NEON must be available; at most 32 rows, all of one length `n`, and `cols` at
    /// least `n` rounded up to 16 long.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn columns_to_rows(cols: &[Column], rows: &mut [&mut [u8]]) {
        let n = rows[0].len();
        let full = rows.len() == ROWS;
        for (x0, tile) in (0..n).step_by(TILE).zip(cols.chunks_exact(TILE)) {
            let mut part = [[0u8; TILE]; ROWS];
            for half in [0, TILE] {
                // SAFETY: `tile[j][half..]` holds 16 bytes.
                let m: [uint8x16_t; 16] =
                    std::array::from_fn(|j| unsafe { vld1q_u8(tile[j][half..].as_ptr()) });
                for (r, v) in transpose_bytes(m).into_iter().enumerate() {
                    if full && x0 + TILE <= n {
                        // SAFETY: bytes x0 .. x0 + 16 lie inside the row (checked above).
                        unsafe { vst1q_u8(rows[half + r].as_mut_ptr().add(x0), v) };
                    } else {
                        // SAFETY: `part[half + r]` is 16 bytes.
                        unsafe { vst1q_u8(part[half + r].as_mut_ptr(), v) };
                    }
                }
            }
            if !(full && x0 + TILE <= n) {
                super::store_tile_part(&part, rows, x0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SplitMix64;

    #[test]
    fn transposes_swap_rows_and_columns_on_every_level() {
        let mut rng = SplitMix64::new(7);
        for n in [1usize, 15, 16, 17, 40] {
            let stride = n.next_multiple_of(TILE) + 3;
            let src: Vec<u8> = (0..ROWS * stride).map(|_| rng.next_u64() as u8).collect();
            for level in SimdLevel::supported() {
                let mut cols = vec![[0u8; ROWS]; n.next_multiple_of(TILE)];
                rows_to_columns(level, &src, stride, &mut cols);
                for (x, col) in cols.iter().enumerate() {
                    for (r, &lane) in col.iter().enumerate() {
                        assert_eq!(lane, src[r * stride + x], "{level} n={n} ({r}, {x})");
                    }
                }
                for count in [1, 7, 16, 31, 32] {
                    let mut out = vec![0u8; count * n];
                    let mut rows: Vec<&mut [u8]> = out.chunks_exact_mut(n).collect();
                    columns_to_rows(level, &cols, &mut rows);
                    for (r, row) in out.chunks_exact(n).enumerate() {
                        assert_eq!(
                            row,
                            &src[r * stride..r * stride + n],
                            "{level} n={n} row {r}"
                        );
                    }
                }
            }
        }
    }

    /// The 16x16 register transpose of this architecture (error diffusion uses it
    /// alone).
    #[test]
    fn register_transpose_swaps_rows_and_columns() {
        let m: [[u8; 16]; 16] =
            std::array::from_fn(|i| std::array::from_fn(|j| (i * 16 + j) as u8));
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of every x86_64 CPU; every load and store is 16 bytes.
        let t: [[u8; 16]; 16] = unsafe {
            use std::arch::x86_64::*;
            let v = m.map(|row| _mm_loadu_si128(row.as_ptr().cast()));
            x86::transpose_bytes(v).map(|v| {
                let mut row = [0u8; 16];
                _mm_storeu_si128(row.as_mut_ptr().cast(), v);
                row
            })
        };
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON is part of every aarch64 CPU Rust targets (checked); every load
        // and store is 16 bytes.
        let t: [[u8; 16]; 16] = unsafe {
            use std::arch::aarch64::*;
            assert!(SimdLevel::Neon.is_supported());
            let v = m.map(|row| vld1q_u8(row.as_ptr()));
            neon::transpose_bytes(v).map(|v| {
                let mut row = [0u8; 16];
                vst1q_u8(row.as_mut_ptr(), v);
                row
            })
        };
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let t = m.map(|_| [0u8; 16]).map(|_| unreachable!());
        for i in 0..16 {
            for j in 0..16 {
                assert_eq!(t[j][i], m[i][j], "({i}, {j})");
            }
        }
    }
}
