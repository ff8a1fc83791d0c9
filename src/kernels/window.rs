//! Running window sums: the engine under the box filter and the local statistics.
//!
//! For each output row it keeps, per column, a running sum over the `ky` rows of the
//! window: adding the row that enters and subtracting the row that leaves costs O(1)
//! per pixel whatever the window height. Narrow windows (up to [`DIRECT_MAX_K`] wide)
//! sum the pixels of each column first, straight from the source rows, then add `kx`
//! neighbouring column sums directly (vectorized): no ring of rows at all. Wide windows
//! keep a ring of horizontal running sums and sum those down the columns. u8 pixels sum
//! exactly in u32 (windows up to 255×255, squares included); f32 pixels sum in f64.
//! Column sums are recomputed from scratch (from the source rows, or from the ring)
//! every [`RESYNC_ROWS`] rows at fixed positions, so float results do not depend on how
//! rows are split among threads.

use crate::image::{ImageView, ImageViewMut, Pixel};
use crate::kernels::border::{Border, pad_row};
use crate::kernels::parallel;
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};

/// Column sums restart from the ring at every multiple of this row.
pub(crate) const RESYNC_ROWS: usize = 64;

/// Up to this width windows sum columns first and add column sums directly; above, they
/// keep a ring of horizontal running sums.
const DIRECT_MAX_K: usize = 16;

/// Below this many pixels a window filter stays on one thread.
const PAR_MIN_PIXELS: usize = 1 << 16;

mod sealed {
    pub trait Sealed {}
}

/// A pixel type with window sums: u8 (exact, in u32) and f32 (in f64).
pub trait WindowPixel: Pixel + sealed::Sealed {
    /// The accumulator of sums.
    type Acc: Copy + Default + Send + Sync + std::fmt::Debug + 'static;
    /// Converts a border constant to this pixel type.
    fn from_constant(v: f32) -> Self;
    /// The pixel as an accumulator.
    fn acc(self) -> Self::Acc;
    /// The pixel squared, as an accumulator.
    fn acc_sq(self) -> Self::Acc;
    /// The accumulator as f64.
    fn acc_f64(a: Self::Acc) -> f64;
    /// The pixel as f64.
    fn f64(self) -> f64;
    #[doc(hidden)]
    fn kernels() -> &'static AccKernels<Self>;
    #[doc(hidden)]
    fn scratch(s: &mut Scratches) -> &mut Vec<WindowScratch<Self, Self::Acc>>;
}

/// `col += row`.
type ColAdd<A> = fn(SimdLevel, &mut [A], &[A]);
/// Sums and sums of squares of one row.
type HSumsBoth<P> =
    fn(SimdLevel, &[P], usize, &mut [<P as WindowPixel>::Acc], &mut [<P as WindowPixel>::Acc]);
/// `col = col + add − sub`.
type ColUpdate<A> = fn(SimdLevel, &mut [A], &[A], &[A]);
/// Window sums of a row of column sums and of its row of sums of squares, in one pass.
type HSumsOfCols<A> = fn(SimdLevel, &[A], &[A], usize, &mut [A], &mut [A]);
/// Column sums (and of squares; an empty slice skips them) `+= row`.
type ColAddPixels<P> =
    fn(SimdLevel, &mut [<P as WindowPixel>::Acc], &mut [<P as WindowPixel>::Acc], &[P]);
/// Column sums (and of squares) `+= enter − leave`.
type ColUpdatePixels<P> =
    fn(SimdLevel, &mut [<P as WindowPixel>::Acc], &mut [<P as WindowPixel>::Acc], &[P], &[P]);

/// The vectorized row kernels of one pixel type.
#[doc(hidden)]
pub struct AccKernels<P: WindowPixel> {
    /// Wide windows: `out[i] = Σ_{j<k} p[i+j]` (as accumulators), running.
    h_sums: fn(SimdLevel, &[P], usize, &mut [P::Acc]),
    /// Sums and sums of squares at once (two running sums in one loop, so the two
    /// dependency chains overlap).
    h_sums_both: HSumsBoth<P>,
    col_add: ColAdd<P::Acc>,
    col_update: ColUpdate<P::Acc>,
    /// Narrow windows: `out[i] = Σ_{j<k} col[i+j]` over column sums (and of squares),
    /// in the order of `pairwise_sum!`.
    h_sums_of_cols: HSumsOfCols<P::Acc>,
    col_add_pixels: ColAddPixels<P>,
    col_update_pixels: ColUpdatePixels<P>,
    /// The column sum (and of squares) of `n` rows of the constant `c`.
    constant_col: fn(P, usize) -> (P::Acc, P::Acc),
}

/// Outputs per block of the direct sums of column sums: the block's partial sums stay
/// in registers while the pairs of shifted rows are added.
const BLOCK: usize = 16;

/// Running sums along a row: `out[i] = Σ_{j<k} val(p[i+j])`, one add and one subtract
/// per output (wide windows).
macro_rules! running_sums_body {
    ($p:ident, $k:ident, $out:ident, $acc:ty, $zero:expr, $add:ident, $sub:ident, $val:expr) => {{
        let val = $val;
        let n = $out.len();
        let mut s: $acc = $zero;
        for j in 0..$k {
            s = s.$add(val($p[j]));
        }
        $out[0] = s;
        for i in 1..n {
            s = s.$add(val($p[i + $k - 1])).$sub(val($p[i - 1]));
            $out[i] = s;
        }
    }};
}

/// `Σ_{j<k} v[i+j]` in pairs, left to right: `((v[i] + v[i+1]) + (v[i+2] + v[i+3])) + …`
/// with an odd last column added alone: the order every form of the narrow window sums
/// follows (fewer dependent adds than a plain running order, and on AVX-512 each pair
/// vector serves several windows), so float sums have the same bits on every level.
macro_rules! pairwise_sum {
    ($v:expr, $i:expr, $k:expr, $add:ident) => {{
        let (v, i, k) = (&$v, $i, $k);
        let mut s = if k == 1 { v[i] } else { v[i].$add(v[i + 1]) };
        let mut j = 2;
        while j + 1 < k {
            s = s.$add(v[i + j].$add(v[i + j + 1]));
            j += 2;
        }
        if k % 2 == 1 && k > 1 {
            s = s.$add(v[i + k - 1]);
        }
        s
    }};
}

/// The window sum of `k` columns at `i`, in the order of `pairwise_sum!` (the AVX-512
/// sums' last outputs).
#[cfg(target_arch = "x86_64")]
pub(crate) fn pairwise_sum_f64(v: &[f64], i: usize, k: usize) -> f64 {
    pairwise_sum!(v, i, k, fadd)
}

macro_rules! pixel_kernels {
    ($p:ty, $acc:ty, $zero:expr, $add:ident, $sub:ident, $mod:ident, $h_sums_of_cols:path) => {
        pixel_kernels!($p, $acc, $zero, $add, $sub, $mod, $h_sums_of_cols, h_sums, h_sums_both);
    };
    (
        $p:ty, $acc:ty, $zero:expr, $add:ident, $sub:ident, $mod:ident, $h_sums_of_cols:path,
        $h_sums_fn:path, $h_sums_both_fn:path
    ) => {
        mod $mod {
            use super::*;
            autovectorized! {
                /// Running sums (wide windows).
                pub fn h_sums(p: &[$p], k: usize, out: &mut [$acc]) {
                    running_sums_body!(p, k, out, $acc, $zero, $add, $sub, |v: $p| <$acc>::from(v))
                }
            }
            autovectorized! {
                pub fn h_sums_both(p: &[$p], k: usize, out: &mut [$acc], out_sq: &mut [$acc]) {
                    let n = out.len().min(out_sq.len());
                    let v = |x: $p| <$acc>::from(x);
                    let (mut s, mut q): ($acc, $acc) = ($zero, $zero);
                    for j in 0..k {
                        s = s.$add(v(p[j]));
                        q = q.$add(v(p[j]) * v(p[j]));
                    }
                    out[0] = s;
                    out_sq[0] = q;
                    for i in 1..n {
                        let (a, b) = (v(p[i + k - 1]), v(p[i - 1]));
                        s = s.$add(a).$sub(b);
                        q = q.$add(a * a).$sub(b * b);
                        out[i] = s;
                        out_sq[i] = q;
                    }
                }
            }
            autovectorized! {
                pub fn col_add(col: &mut [$acc], row: &[$acc]) {
                    for (c, &v) in col.iter_mut().zip(row) {
                        *c = c.$add(v);
                    }
                }
            }
            autovectorized! {
                pub fn col_update(col: &mut [$acc], add: &[$acc], sub: &[$acc]) {
                    for ((c, &a), &s) in col.iter_mut().zip(add).zip(sub) {
                        *c = c.$add(a).$sub(s);
                    }
                }
            }
            autovectorized! {
                /// `out[i] = Σ_{j<k} p[i+j]` over column sums, and the same from `q`
                /// into `out_q` (both empty to skip), summed in the order of
                /// `pairwise_sum!`. Blocked: the sums of a block of outputs stay in
                /// registers while the shifted rows are added.
                pub fn h_sums_of_cols(p: &[$acc], q: &[$acc], k: usize, out: &mut [$acc], out_q: &mut [$acc]) {
                    let n = out.len();
                    let both = !out_q.is_empty();
                    // Window sums of outputs i .. i + BLOCK of `v` into `o` (a macro, not
                    // a closure: closures may stay out of line, unvectorized).
                    macro_rules! block {
                        ($v:expr, $o:expr, $i:expr) => {{
                            let (v, i) = (&$v, $i);
                            let mut s = [$zero; BLOCK];
                            if k == 1 {
                                s.copy_from_slice(&v[i..i + BLOCK]);
                            } else {
                                let (a, b) = (&v[i..i + BLOCK], &v[i + 1..i + 1 + BLOCK]);
                                for l in 0..BLOCK {
                                    s[l] = a[l].$add(b[l]);
                                }
                            }
                            let mut j = 2;
                            while j + 1 < k {
                                let (a, b) = (&v[i + j..i + j + BLOCK], &v[i + j + 1..i + j + 1 + BLOCK]);
                                for l in 0..BLOCK {
                                    s[l] = s[l].$add(a[l].$add(b[l]));
                                }
                                j += 2;
                            }
                            if k % 2 == 1 && k > 1 {
                                let a = &v[i + k - 1..i + k - 1 + BLOCK];
                                for l in 0..BLOCK {
                                    s[l] = s[l].$add(a[l]);
                                }
                            }
                            $o[i..i + BLOCK].copy_from_slice(&s);
                        }};
                    }
                    let mut i = 0;
                    while i + BLOCK <= n {
                        block!(p, out, i);
                        if both {
                            block!(q, out_q, i);
                        }
                        i += BLOCK;
                    }
                    for i in i..n {
                        out[i] = pairwise_sum!(p, i, k, $add);
                        if both {
                            out_q[i] = pairwise_sum!(q, i, k, $add);
                        }
                    }
                }
            }
            autovectorized! {
                pub fn col_add_pixels(col: &mut [$acc], col_sq: &mut [$acc], row: &[$p]) {
                    let v = |x: $p| <$acc>::from(x);
                    for (c, &x) in col.iter_mut().zip(row) {
                        *c = c.$add(v(x));
                    }
                    for (c, &x) in col_sq.iter_mut().zip(row) {
                        *c = c.$add(v(x) * v(x));
                    }
                }
            }
            autovectorized! {
                pub fn col_update_pixels(col: &mut [$acc], col_sq: &mut [$acc], enter: &[$p], leave: &[$p]) {
                    let v = |x: $p| <$acc>::from(x);
                    if col_sq.is_empty() {
                        for ((c, &e), &l) in col.iter_mut().zip(enter).zip(leave) {
                            *c = c.$add(v(e)).$sub(v(l));
                        }
                        return;
                    }
                    // One loop for both: each pixel loaded and widened once.
                    for (((c, q), &e), &l) in col.iter_mut().zip(col_sq.iter_mut()).zip(enter).zip(leave) {
                        let (e, l) = (v(e), v(l));
                        *c = c.$add(e).$sub(l);
                        *q = q.$add(e * e).$sub(l * l);
                    }
                }
            }
            fn constant_col(c: $p, n: usize) -> ($acc, $acc) {
                let v = <$acc>::from(c);
                (0..n).fold(($zero, $zero), |(s, q), _| (s.$add(v), q.$add(v * v)))
            }
            pub static KERNELS: AccKernels<$p> = AccKernels {
                h_sums: $h_sums_fn,
                h_sums_both: $h_sums_both_fn,
                col_add,
                col_update,
                h_sums_of_cols: $h_sums_of_cols,
                col_add_pixels,
                col_update_pixels,
                constant_col,
            };
        }
    };
}

/// Float adds under names that match the integers' wrapping ones.
trait FloatOps {
    fn fadd(self, o: Self) -> Self;
    fn fsub(self, o: Self) -> Self;
}
impl FloatOps for f64 {
    #[inline(always)]
    fn fadd(self, o: f64) -> f64 {
        self + o
    }
    #[inline(always)]
    fn fsub(self, o: f64) -> f64 {
        self - o
    }
}

pixel_kernels!(
    u8,
    u32,
    0u32,
    wrapping_add,
    wrapping_sub,
    u8_kernels,
    h_sums_of_cols,
    u8_scans::h_sums,
    u8_scans::h_sums_both
);
pixel_kernels!(
    f32,
    f64,
    0.0f64,
    fadd,
    fsub,
    f32_kernels,
    super::f64_sums::h_sums_of_cols
);

/// Running window sums along u8 rows (wide windows) as prefix scans on AVX-512, AVX2 and
/// NEON. A running
/// sum is one dependent add per pixel (with squares, two chains: about four cycles a
/// pixel, half of a Sauvola filter's time), but `out[i] = out[i−1] + (p[i+k−1] −
/// p[i−1])` is also the last sum of the block before plus a prefix sum of the
/// differences, and a prefix sum of 16 (8, 4) lanes is four (three, two) shift-and-add
/// steps in registers. The sums wrap in u32 and the window sums (below 2^32) come out
/// exact in any order: the same bits as the running loop, which the scalar level keeps.
mod u8_scans {
    use super::*;

    /// `out[i] = Σ_{j<k} p[i+j]`.
    pub(super) fn h_sums(level: SimdLevel, p: &[u8], k: usize, out: &mut [u32]) {
        if let Some(scan) = scan_for(level) {
            return scan(p, k, out, &mut []);
        }
        u8_kernels::h_sums(level, p, k, out)
    }

    /// [`h_sums`] and the same of squares into `out_sq`.
    pub(super) fn h_sums_both(
        level: SimdLevel,
        p: &[u8],
        k: usize,
        out: &mut [u32],
        out_sq: &mut [u32],
    ) {
        if let Some(scan) = scan_for(level) {
            let n = out.len().min(out_sq.len());
            return scan(p, k, &mut out[..n], &mut out_sq[..n]);
        }
        u8_kernels::h_sums_both(level, p, k, out, out_sq)
    }

    /// The first window's sum (and sum of squares, unless `out_sq` is empty).
    fn first_window(p: &[u8], k: usize, out: &mut [u32], out_sq: &mut [u32]) {
        let v = |x: u8| u32::from(x);
        out[0] = p[..k].iter().fold(0u32, |s, &x| s.wrapping_add(v(x)));
        if let Some(q) = out_sq.first_mut() {
            *q = p[..k]
                .iter()
                .fold(0u32, |s, &x| s.wrapping_add(v(x) * v(x)));
        }
    }

    /// The row from `i` (at least 1) on as a running sum (the scans' tails).
    fn running_from(p: &[u8], k: usize, out: &mut [u32], out_sq: &mut [u32], i: usize) {
        let v = |x: u8| u32::from(x);
        let sq = !out_sq.is_empty();
        for i in i..out.len() {
            let (e, l) = (v(p[i + k - 1]), v(p[i - 1]));
            out[i] = out[i - 1].wrapping_add(e).wrapping_sub(l);
            if sq {
                out_sq[i] = out_sq[i - 1].wrapping_add(e * e).wrapping_sub(l * l);
            }
        }
    }

    fn check(p: &[u8], k: usize, out: &[u32], out_sq: &[u32]) {
        assert!(
            k >= 1 && !out.is_empty() && p.len() >= out.len() + k - 1,
            "window row too short"
        );
        assert!(
            out_sq.is_empty() || out_sq.len() == out.len(),
            "square sums' row"
        );
    }

    /// Sums (and squares, unless `out_sq` is empty) of the windows of `p`.
    type Scan = fn(&[u8], usize, &mut [u32], &mut [u32]);

    /// The scan for `level`, if it has one and the CPU runs it.
    fn scan_for(level: SimdLevel) -> Option<Scan> {
        match level {
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
                Some(|p, k, out, out_sq| {
                    // SAFETY: `scan_for` just checked that the CPU has AVX-512 F/BW.
                    unsafe { x86::scan_avx512(p, k, out, out_sq) }
                })
            }
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 if level.is_supported() => Some(|p, k, out, out_sq| {
                // SAFETY: `scan_for` just checked that the CPU has AVX2.
                unsafe { x86::scan_avx2(p, k, out, out_sq) }
            }),
            #[cfg(target_arch = "aarch64")]
            SimdLevel::Neon if level.is_supported() => Some(|p, k, out, out_sq| {
                // SAFETY: `scan_for` just checked that the CPU has NEON.
                unsafe { arm::scan_neon(p, k, out, out_sq) }
            }),
            _ => None,
        }
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use super::*;
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx512f,avx512bw")]
        pub(super) fn scan_avx512(p: &[u8], k: usize, out: &mut [u32], out_sq: &mut [u32]) {
            const L: usize = 16;
            check(p, k, out, out_sq);
            let (n, sq) = (out.len(), !out_sq.is_empty());
            first_window(p, k, out, out_sq);
            let zero = _mm512_setzero_si512();
            let last = _mm512_set1_epi32(L as i32 - 1);
            // Inclusive prefix sum of the 16 lanes.
            let scan = |mut x: __m512i| {
                x = _mm512_add_epi32(x, _mm512_alignr_epi32::<15>(x, zero));
                x = _mm512_add_epi32(x, _mm512_alignr_epi32::<14>(x, zero));
                x = _mm512_add_epi32(x, _mm512_alignr_epi32::<12>(x, zero));
                _mm512_add_epi32(x, _mm512_alignr_epi32::<8>(x, zero))
            };
            let mut carry = _mm512_set1_epi32(out[0] as i32);
            let mut carry_sq = _mm512_set1_epi32(if sq { out_sq[0] as i32 } else { 0 });
            let mut i = 1;
            while i + L <= n {
                // SAFETY: the loads read p[i − 1 .. i + 15] and p[i + k − 1 .. i + k + 15],
                // inside p since i + 16 <= n and p.len() >= n + k − 1 (checked); the stores
                // write out[i..i + 16] and out_sq[i..i + 16], i + 16 <= n = their length.
                unsafe {
                    let px = |at: usize| {
                        _mm512_cvtepu8_epi32(_mm_loadu_si128(p.as_ptr().add(at).cast()))
                    };
                    let (e, l) = (px(i + k - 1), px(i - 1));
                    let v = _mm512_add_epi32(scan(_mm512_sub_epi32(e, l)), carry);
                    _mm512_storeu_si512(out.as_mut_ptr().add(i).cast(), v);
                    carry = _mm512_permutexvar_epi32(last, v);
                    if sq {
                        let d =
                            _mm512_sub_epi32(_mm512_mullo_epi32(e, e), _mm512_mullo_epi32(l, l));
                        let v = _mm512_add_epi32(scan(d), carry_sq);
                        _mm512_storeu_si512(out_sq.as_mut_ptr().add(i).cast(), v);
                        carry_sq = _mm512_permutexvar_epi32(last, v);
                    }
                }
                i += L;
            }
            running_from(p, k, out, out_sq, i);
        }

        #[target_feature(enable = "avx2")]
        pub(super) fn scan_avx2(p: &[u8], k: usize, out: &mut [u32], out_sq: &mut [u32]) {
            const L: usize = 8;
            check(p, k, out, out_sq);
            let (n, sq) = (out.len(), !out_sq.is_empty());
            first_window(p, k, out, out_sq);
            let last = _mm256_set1_epi32(L as i32 - 1);
            // Inclusive prefix sum of the 8 lanes: within each 128-bit half, then the low
            // half's total into the high half.
            let scan = |mut x: __m256i| {
                x = _mm256_add_epi32(x, _mm256_slli_si256::<4>(x));
                x = _mm256_add_epi32(x, _mm256_slli_si256::<8>(x));
                let low_total = _mm256_shuffle_epi32::<0xff>(x);
                _mm256_add_epi32(x, _mm256_permute2x128_si256::<0x08>(low_total, low_total))
            };
            let mut carry = _mm256_set1_epi32(out[0] as i32);
            let mut carry_sq = _mm256_set1_epi32(if sq { out_sq[0] as i32 } else { 0 });
            let mut i = 1;
            while i + L <= n {
                // SAFETY: the loads read 8 bytes at p[i − 1] and at p[i + k − 1], inside p
                // since i + 8 <= n and p.len() >= n + k − 1 (checked); the stores write
                // out[i..i + 8] and out_sq[i..i + 8], i + 8 <= n = their length.
                unsafe {
                    let px = |at: usize| {
                        _mm256_cvtepu8_epi32(_mm_loadl_epi64(p.as_ptr().add(at).cast()))
                    };
                    let (e, l) = (px(i + k - 1), px(i - 1));
                    let v = _mm256_add_epi32(scan(_mm256_sub_epi32(e, l)), carry);
                    _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), v);
                    carry = _mm256_permutevar8x32_epi32(v, last);
                    if sq {
                        let d =
                            _mm256_sub_epi32(_mm256_mullo_epi32(e, e), _mm256_mullo_epi32(l, l));
                        let v = _mm256_add_epi32(scan(d), carry_sq);
                        _mm256_storeu_si256(out_sq.as_mut_ptr().add(i).cast(), v);
                        carry_sq = _mm256_permutevar8x32_epi32(v, last);
                    }
                }
                i += L;
            }
            running_from(p, k, out, out_sq, i);
        }
    }

    #[cfg(target_arch = "aarch64")]
    mod arm {
        use super::*;
        use std::arch::aarch64::*;

        #[target_feature(enable = "neon")]
        pub(super) fn scan_neon(p: &[u8], k: usize, out: &mut [u32], out_sq: &mut [u32]) {
            const L: usize = 8;
            check(p, k, out, out_sq);
            let (n, sq) = (out.len(), !out_sq.is_empty());
            first_window(p, k, out, out_sq);
            let zero = vdupq_n_u32(0);
            // Inclusive prefix sum of 4 lanes: lane l adds lane l − 1, then l − 2.
            let scan = |x: uint32x4_t| {
                let x = vaddq_u32(x, vextq_u32::<3>(zero, x));
                vaddq_u32(x, vextq_u32::<2>(zero, x))
            };
            let mut carry = vdupq_n_u32(out[0]);
            let mut carry_sq = vdupq_n_u32(if sq { out_sq[0] } else { 0 });
            let mut i = 1;
            while i + L <= n {
                // SAFETY: the loads read 8 bytes at p[i − 1] and at p[i + k − 1], inside p
                // since i + 8 <= n and p.len() >= n + k − 1 (checked); the stores write
                // out[i..i + 8] and out_sq[i..i + 8], i + 8 <= n = their length.
                unsafe {
                    let px = |at: usize| vmovl_u8(vld1_u8(p.as_ptr().add(at)));
                    let (e16, l16) = (px(i + k - 1), px(i - 1));
                    let halves = [
                        (vmovl_u16(vget_low_u16(e16)), vmovl_u16(vget_low_u16(l16))),
                        (vmovl_high_u16(e16), vmovl_high_u16(l16)),
                    ];
                    for (h, (e, l)) in halves.into_iter().enumerate() {
                        let at = i + 4 * h;
                        let v = vaddq_u32(scan(vsubq_u32(e, l)), carry);
                        vst1q_u32(out.as_mut_ptr().add(at), v);
                        carry = vdupq_laneq_u32::<3>(v);
                        if sq {
                            let d = vsubq_u32(vmulq_u32(e, e), vmulq_u32(l, l));
                            let v = vaddq_u32(scan(d), carry_sq);
                            vst1q_u32(out_sq.as_mut_ptr().add(at), v);
                            carry_sq = vdupq_laneq_u32::<3>(v);
                        }
                    }
                }
                i += L;
            }
            running_from(p, k, out, out_sq, i);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The scans give the running loop's bits on every level, for windows and rows
        /// around the vector widths, with and without squares.
        #[test]
        fn scans_match_the_running_sums() {
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 32) as u8
            };
            for k in [1, 2, 7, 17, 25, 64, 255] {
                for n in [1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 1000] {
                    let p: Vec<u8> = (0..n + k - 1).map(|_| next()).collect();
                    let (mut want, mut want_sq) = (vec![0; n], vec![0; n]);
                    u8_kernels::h_sums_both(SimdLevel::Scalar, &p, k, &mut want, &mut want_sq);
                    let mut plain = vec![0; n];
                    u8_kernels::h_sums(SimdLevel::Scalar, &p, k, &mut plain);
                    assert_eq!(plain, want, "k {k} n {n}");
                    for level in SimdLevel::supported() {
                        let (mut got, mut got_sq) = (vec![0; n], vec![0; n]);
                        h_sums_both(level, &p, k, &mut got, &mut got_sq);
                        assert_eq!((&got, &got_sq), (&want, &want_sq), "{level} k {k} n {n}");
                        let mut got = vec![0; n];
                        h_sums(level, &p, k, &mut got);
                        assert_eq!(got, want, "{level} k {k} n {n} sums only");
                    }
                }
            }
        }
    }
}

/// The f64 window sums of column sums (f32 images), with a hand-written AVX-512 form.
pub(crate) mod f64_sums {
    use super::*;

    /// [`AccKernels::h_sums_of_cols`] for f64: AVX-512 for windows of 2 to 16 columns,
    /// the compiled loop elsewhere (same sums in the same order: the same bits).
    pub fn h_sums_of_cols(
        level: SimdLevel,
        p: &[f64],
        q: &[f64],
        k: usize,
        out: &mut [f64],
        out_q: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        if matches!(level, SimdLevel::Avx512 | SimdLevel::Avx512Vbmi)
            && SimdLevel::Avx512.is_supported()
            && (2..=16).contains(&k)
            && !out_q.is_empty()
        {
            // SAFETY: the guard just checked that the CPU has AVX-512 F.
            return unsafe { avx512::sums_of_cols(p, q, k, out, out_q) };
        }
        super::f32_kernels::h_sums_of_cols(level, p, q, k, out, out_q)
    }

    #[cfg(target_arch = "x86_64")]
    pub(crate) mod avx512;
}

impl sealed::Sealed for u8 {}
impl WindowPixel for u8 {
    type Acc = u32;
    fn from_constant(v: f32) -> u8 {
        v.round().clamp(0.0, 255.0) as u8
    }
    fn acc(self) -> u32 {
        u32::from(self)
    }
    fn acc_sq(self) -> u32 {
        u32::from(self) * u32::from(self)
    }
    fn acc_f64(a: u32) -> f64 {
        f64::from(a)
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn kernels() -> &'static AccKernels<u8> {
        &u8_kernels::KERNELS
    }
    fn scratch(s: &mut Scratches) -> &mut Vec<WindowScratch<u8, u32>> {
        &mut s.u32
    }
}

impl sealed::Sealed for f32 {}
impl WindowPixel for f32 {
    type Acc = f64;
    fn from_constant(v: f32) -> f32 {
        v
    }
    fn acc(self) -> f64 {
        f64::from(self)
    }
    fn acc_sq(self) -> f64 {
        f64::from(self) * f64::from(self)
    }
    fn acc_f64(a: f64) -> f64 {
        a
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn kernels() -> &'static AccKernels<f32> {
        &f32_kernels::KERNELS
    }
    fn scratch(s: &mut Scratches) -> &mut Vec<WindowScratch<f32, f64>> {
        &mut s.f64
    }
}

/// Scratch of one band. Wide windows: a padded row, rings of horizontal sums (and of
/// squares), column sums. Narrow windows (columns first): `padded` holds a row of the
/// border constant, `col`/`col_sq` the column sums padded by the border at both ends,
/// `ring`/`ring_sq` one chunk of window sums.
#[derive(Debug, Default)]
pub struct WindowScratch<P, A> {
    padded: Vec<P>,
    ring: Vec<A>,
    ring_sq: Vec<A>,
    col: Vec<A>,
    col_sq: Vec<A>,
}

impl<P: Copy + Default, A: Copy + Default> WindowScratch<P, A> {
    /// Sizes the buffers (the ring has one spare slot, so the entering and the leaving
    /// row coexist); allocates only when they must grow.
    fn fit(&mut self, w: usize, kx: usize, ky: usize, squares: bool) {
        let sq = usize::from(squares);
        if kx <= DIRECT_MAX_K {
            // Columns first: a constant row, padded column sums, and one chunk of
            // window sums.
            let chunk = w.min(EMIT_CHUNK);
            self.padded.resize(w, P::default());
            self.ring.resize(chunk, A::default());
            self.ring_sq.resize(sq * chunk, A::default());
            self.col.resize(w + kx - 1, A::default());
            self.col_sq.resize(sq * (w + kx - 1), A::default());
        } else {
            self.padded.resize(w + kx - 1, P::default());
            self.ring.resize((ky + 1) * w, A::default());
            self.ring_sq.resize(sq * (ky + 1) * w, A::default());
            self.col.resize(w, A::default());
            self.col_sq.resize(sq * w, A::default());
        }
    }
}

/// Scratch for both pixel types, owned by a plan and reused across calls.
#[derive(Debug, Default)]
pub struct Scratches {
    u32: Vec<WindowScratch<u8, u32>>,
    f64: Vec<WindowScratch<f32, f64>>,
}

/// A window: size, border and whether sums of squares are needed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub kx: usize,
    pub ky: usize,
    pub border: Border,
    pub squares: bool,
}

/// What a run of output pixels gets. A run is a whole row, or (narrow windows) a chunk
/// of one, so an emitter must not depend on where in the row its slices start.
pub(crate) enum Emit<'a, P: WindowPixel, D> {
    /// The window sums (and sums of squares, or an empty slice) over the window centred
    /// on each pixel, and the source pixels themselves.
    Sums(EmitSums<'a, P, D>),
    /// The column sums under the run (at least `n + kx − 1` of them from the first
    /// output's leftmost column, and of squares or an empty slice) and `kx`: the emitter forms
    /// the window sums itself, fused with what it makes of them, with no row of window
    /// sums in between. Wide windows hand over their window sums with `kx` = 1.
    Columns(EmitColumns<'a, P, D>),
}

/// An [`Emit::Sums`] emitter.
pub(crate) type EmitSums<'a, P, D> =
    &'a (dyn Fn(&[<P as WindowPixel>::Acc], &[<P as WindowPixel>::Acc], &[P], &mut [D]) + Sync);

/// An [`Emit::Columns`] emitter.
pub(crate) type EmitColumns<'a, P, D> =
    &'a (dyn Fn(&[<P as WindowPixel>::Acc], &[<P as WindowPixel>::Acc], usize, &mut [D]) + Sync);

impl<P: WindowPixel, D> Clone for Emit<'_, P, D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: WindowPixel, D> Copy for Emit<'_, P, D> {}

/// `out[i] = Σ_{j<k} p[i+j]` over column sums, and the same from `q` into `out_q` (both
/// empty to skip): the window sums every [`Emit::Columns`] emitter must reproduce.
pub(crate) fn sums_of_columns<P: WindowPixel>(
    level: SimdLevel,
    p: &[P::Acc],
    q: &[P::Acc],
    k: usize,
    out: &mut [P::Acc],
    out_q: &mut [P::Acc],
) {
    (P::kernels().h_sums_of_cols)(level, p, q, k, out, out_q)
}

/// Streams `src` once, calling `emit` for every output row of `dst` (same size).
pub(crate) fn window_sums<P: WindowPixel, D: Pixel>(
    level: SimdLevel,
    src: &ImageView<'_, P>,
    dst: &mut ImageViewMut<'_, D>,
    win: Window,
    scratches: &mut Scratches,
    emit: Emit<'_, P, D>,
) {
    let (w, h) = src.size();
    let band_rows = if w * h < PAR_MIN_PIXELS {
        h
    } else {
        parallel::band_rows_for(h, 2 * win.ky).next_multiple_of(RESYNC_ROWS)
    };
    let bands = h.div_ceil(band_rows);
    let scratch = P::scratch(scratches);
    if scratch.len() < bands {
        scratch.resize_with(bands, WindowScratch::default);
    }
    for s in scratch.iter_mut() {
        s.fit(w, win.kx, win.ky, win.squares);
    }
    parallel::for_each_band_with_scratch(dst.reborrow(), band_rows, scratch, &|y0, band, s| {
        if win.kx <= DIRECT_MAX_K {
            band_sums_columns_first(level, src, y0, band, s, win, emit)
        } else {
            band_sums(level, src, y0, band, s, win, emit)
        }
    });
}

/// Horizontal sums (of squares, if `square`) of virtual row `vr` (border-mapped) into `out`.
fn h_row<P: WindowPixel>(
    level: SimdLevel,
    src: &ImageView<'_, P>,
    vr: isize,
    win: Window,
    padded: &mut [P],
    out: &mut [P::Acc],
    out_sq: Option<&mut [P::Acc]>,
) {
    let k = P::kernels();
    let constant = match win.border {
        Border::Constant(v) => P::from_constant(v),
        _ => P::default(),
    };
    match win.border.map(vr, src.height()) {
        Some(y) => pad_row(
            src.row(y),
            -((win.kx / 2) as isize),
            win.border,
            constant,
            |v| v,
            padded,
            |row, mid| mid.copy_from_slice(row),
        ),
        None => padded.fill(constant),
    }
    match out_sq {
        Some(sq) => (k.h_sums_both)(level, padded, win.kx, out, sq),
        None => (k.h_sums)(level, padded, win.kx, out),
    }
}

fn band_sums<P: WindowPixel, D: Pixel>(
    level: SimdLevel,
    src: &ImageView<'_, P>,
    y0: usize,
    mut band: ImageViewMut<'_, D>,
    s: &mut WindowScratch<P, P::Acc>,
    win: Window,
    emit: Emit<'_, P, D>,
) {
    let w = src.width();
    let k = P::kernels();
    // Rows y − above ..= y + below (odd windows are centred; even ones put the extra
    // row above, as OpenCV's default anchor does).
    let above = (win.ky / 2) as isize;
    let below = (win.ky - 1 - win.ky / 2) as isize;
    let slots = (win.ky + 1) as isize;
    let slot =
        |vr: isize| vr.rem_euclid(slots) as usize * w..(vr.rem_euclid(slots) as usize + 1) * w;
    let WindowScratch {
        padded,
        ring,
        ring_sq,
        col,
        col_sq,
    } = s;
    for row in 0..band.height() {
        let y = y0 + row;
        let yi = y as isize;
        let entering = if row == 0 { yi - above } else { yi + below };
        for vr in entering..=yi + below {
            let sq = if win.squares {
                Some(&mut ring_sq[slot(vr)])
            } else {
                None
            };
            h_row(level, src, vr, win, padded, &mut ring[slot(vr)], sq);
        }
        if row == 0 || y.is_multiple_of(RESYNC_ROWS) {
            // Fixed restart points keep float sums independent of the banding.
            col.fill(P::Acc::default());
            col_sq.fill(P::Acc::default());
            for vr in yi - above..=yi + below {
                (k.col_add)(level, col, &ring[slot(vr)]);
                if win.squares {
                    (k.col_add)(level, col_sq, &ring_sq[slot(vr)]);
                }
            }
        } else {
            let (enter, leave) = (slot(yi + below), slot(yi - above - 1));
            (k.col_update)(level, col, &ring[enter.clone()], &ring[leave.clone()]);
            if win.squares {
                (k.col_update)(level, col_sq, &ring_sq[enter], &ring_sq[leave]);
            }
        }
        match emit {
            Emit::Sums(f) => f(col, col_sq, src.row(y), band.row_mut(row)),
            Emit::Columns(f) => f(col, col_sq, 1, band.row_mut(row)),
        }
    }
}

/// [`band_sums`] for windows up to [`DIRECT_MAX_K`] wide: per output row, the column
/// sums over the window's rows are updated straight from the source rows (the entering
/// one added, the leaving one subtracted; recomputed at the fixed restart rows), padded
/// by the border at both ends, and `kx` neighbouring column sums are added directly.
fn band_sums_columns_first<P: WindowPixel, D: Pixel>(
    level: SimdLevel,
    src: &ImageView<'_, P>,
    y0: usize,
    mut band: ImageViewMut<'_, D>,
    s: &mut WindowScratch<P, P::Acc>,
    win: Window,
    emit: Emit<'_, P, D>,
) {
    let (w, h) = src.size();
    let k = P::kernels();
    let above = (win.ky / 2) as isize;
    let below = (win.ky - 1 - win.ky / 2) as isize;
    // Columns x − left ..= x + right (the extra column of an even window on the left).
    let (left, right) = (win.kx / 2, win.kx - 1 - win.kx / 2);
    let constant = match win.border {
        Border::Constant(v) => P::from_constant(v),
        _ => P::default(),
    };
    let (outside, outside_sq) = (k.constant_col)(constant, win.ky);
    let WindowScratch {
        padded,
        ring: sums,
        ring_sq: sums_sq,
        col,
        col_sq,
    } = s;
    // Rows outside the image under a constant border: a row of the constant.
    padded.fill(constant);
    let constant_row = &*padded;
    let row_of = |vr: isize| match win.border.map(vr, h) {
        Some(y) => src.row(y),
        None => constant_row,
    };
    for row in 0..band.height() {
        let y = y0 + row;
        let yi = y as isize;
        {
            let mid = &mut col[left..left + w];
            let mid_sq = if win.squares {
                &mut col_sq[left..left + w]
            } else {
                &mut []
            };
            if row == 0 || y.is_multiple_of(RESYNC_ROWS) {
                // Fixed restart points keep float sums independent of the banding.
                mid.fill(P::Acc::default());
                mid_sq.fill(P::Acc::default());
                for vr in yi - above..=yi + below {
                    (k.col_add_pixels)(level, mid, mid_sq, row_of(vr));
                }
            } else {
                // The entering row was prefetched during the previous row.
                let (enter, leave) = (row_of(yi + below), row_of(yi - above - 1));
                (k.col_update_pixels)(level, mid, mid_sq, enter, leave);
            }
        }
        // Columns outside the row: mirrored or repeated column sums, or the constant's.
        for j in 1..=left.max(right) as isize {
            for (x, at) in [
                (-j, left as isize - j),
                (w as isize - 1 + j, (left + w) as isize - 1 + j),
            ] {
                if at < 0 || at >= (w + left + right) as isize {
                    continue;
                }
                let at = at as usize;
                match win.border.map(x, w) {
                    Some(xx) => {
                        col[at] = col[left + xx];
                        if win.squares {
                            col_sq[at] = col_sq[left + xx];
                        }
                    }
                    None => {
                        col[at] = outside;
                        if win.squares {
                            col_sq[at] = outside_sq;
                        }
                    }
                }
            }
        }
        // The row entering next comes from memory: prefetched into L2 a chunk at a
        // time while this row is worked on, it arrives hidden behind the arithmetic.
        // Measured on 4K f32 7x7 local_std, one thread, with the map fused: 10.9 ->
        // 9.9 ms, and 9.4 without the copy into a staging row that used to pull it in.
        let next = if row + 1 < band.height() && !(y + 1).is_multiple_of(RESYNC_ROWS) {
            row_of(yi + below + 1)
        } else {
            &[]
        };
        // Chunk by chunk, so `emit` reads the window sums while they are still in L1
        // (a 4K row of f64 sums and one of sums of squares are 60 KB).
        let (src_row, out_row) = (src.row(y), band.row_mut(row));
        for x in (0..w).step_by(EMIT_CHUNK) {
            let n = EMIT_CHUNK.min(w - x);
            if !next.is_empty() {
                simd::prefetch_l2(&next[x..x + n]);
            }
            // From the run's first window to the end of the row: at least the
            // `n + kx − 1` columns under the run, and vector loads may read ahead.
            let (c, c_sq) = (&col[x..], squares_part(col_sq, x..));
            let out = &mut out_row[x..x + n];
            match emit {
                Emit::Sums(f) => {
                    let (s, q) = (&mut sums[..n], squares_part(sums_sq, ..n));
                    (k.h_sums_of_cols)(level, c, c_sq, win.kx, s, q);
                    f(s, q, &src_row[x..x + n], out);
                }
                Emit::Columns(f) => f(c, c_sq, win.kx, out),
            }
        }
    }
}

/// Outputs per `emit` call of the columns-first path.
const EMIT_CHUNK: usize = 512;

/// `v[range]`, or `v` itself when it is empty (no sums of squares wanted).
fn squares_part<A, R: std::slice::SliceIndex<[A], Output = [A]>>(
    v: &mut [A],
    range: R,
) -> &mut [A] {
    if v.is_empty() { v } else { &mut v[range] }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f64 window sums of column sums give the compiled loop's bits on every level,
    /// for every narrow width, on rows that end right after the last window.
    #[test]
    fn f64_sums_of_cols_match_the_compiled_loop_bit_for_bit() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 * 1e6 - 3e5
        };
        for k in 1..=17 {
            for n in [1, 7, 8, 9, 15, 16, 17, 40, 100] {
                for slack in [0, 1, 20] {
                    let len = n + k - 1 + slack;
                    let p: Vec<f64> = (0..len).map(|_| next()).collect();
                    let q: Vec<f64> = (0..len).map(|_| next() * next()).collect();
                    let (mut want, mut want_q) = (vec![0.0; n], vec![0.0; n]);
                    f32_kernels::h_sums_of_cols(
                        SimdLevel::Scalar,
                        &p,
                        &q,
                        k,
                        &mut want,
                        &mut want_q,
                    );
                    for level in SimdLevel::supported() {
                        let (mut got, mut got_q) = (vec![0.0; n], vec![0.0; n]);
                        f64_sums::h_sums_of_cols(level, &p, &q, k, &mut got, &mut got_q);
                        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&got), bits(&want), "{level} k{k} n{n} +{slack}");
                        assert_eq!(
                            bits(&got_q),
                            bits(&want_q),
                            "{level} k{k} n{n} +{slack} squares"
                        );
                    }
                }
            }
        }
    }
}
