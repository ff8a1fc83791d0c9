//! Connected components of a binary u8 image (non-zero is foreground), 4- or
//! 8-connected, with per-component statistics gathered while labeling.
//!
//! Run-based union-find: each row is cut into runs of foreground; a run takes the
//! provisional label of the first run it touches in the row above (8-connectivity also
//! touches diagonally) and unites with the others; area, bounding box and coordinate
//! sums are added to the run's provisional label as it is found, so no second pass over
//! the pixels is needed for statistics. Resolving the equivalences keeps the smallest
//! provisional label as the root, so final labels follow the raster order of each
//! component's first pixel, as OpenCV's do: results compare one to one.
//!
//! In parallel, horizontal strips are labeled independently (each numbering its own
//! provisional labels, in raster order; strip by strip they form one global sequence),
//! then united along the strip borders: the final labels and statistics are identical to
//! the single-threaded ones. Label arrays grow with the labels actually used.

use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Which neighbours connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connectivity {
    /// Left, right, up, down.
    Four,
    /// Also the diagonals.
    Eight,
}

impl Connectivity {
    /// `4` or `8`.
    pub fn from_number(n: i64) -> Result<Self> {
        match n {
            4 => Ok(Connectivity::Four),
            8 => Ok(Connectivity::Eight),
            other => Err(Error::bad_param(
                "conn",
                format!("must be 4 or 8, got {other}"),
            )),
        }
    }
}

/// Statistics of one component (label `i + 1` is at index `i`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ComponentStats {
    pub label: u32,
    pub area: u64,
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    pub centroid_x: f64,
    pub centroid_y: f64,
}

/// Running statistics of a provisional label.
#[derive(Clone, Copy, Debug)]
struct Acc {
    area: u64,
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    sum_x: u64,
    sum_y: u64,
}

impl Acc {
    fn run(y: u32, start: u32, end: u32) -> Acc {
        let n = u64::from(end - start);
        Acc {
            area: n,
            x0: start,
            y0: y,
            x1: end - 1,
            y1: y,
            // Σ x over [start, end) = n·(start + end − 1)/2.
            sum_x: n * u64::from(start + end - 1) / 2,
            sum_y: n * u64::from(y),
        }
    }

    fn merge(&mut self, o: &Acc) {
        self.area += o.area;
        self.x0 = self.x0.min(o.x0);
        self.y0 = self.y0.min(o.y0);
        self.x1 = self.x1.max(o.x1);
        self.y1 = self.y1.max(o.y1);
        self.sum_x += o.sum_x;
        self.sum_y += o.sum_y;
    }
}

/// A run of foreground: `[start, end)` in its row (`Strip::row_start` says which),
/// with its provisional label. Twelve bytes: a 4K frame of blobs has about a million.
#[derive(Clone, Copy, Debug)]
struct Run {
    start: u32,
    end: u32,
    label: u32,
}

/// One strip's labeling state.
#[derive(Debug, Default)]
struct Strip {
    runs: Vec<Run>,
    /// Foreground bits of the current row, 64 pixels per word.
    masks: Vec<u64>,
    /// Index into `runs` where each row of the strip starts (plus one past the end).
    row_start: Vec<usize>,
    /// Union-find over this strip's provisional labels (local numbers, from 0).
    parent: Vec<u32>,
    /// Statistics gathered per provisional label.
    acc: Vec<Acc>,
    /// One row of labels being painted (the width plus [`PAINT_STEP`] of slack).
    paint: Vec<u32>,
}

/// Bit i of `masks[c]` is set where `row[64c + i]` is foreground: whole 64-pixel words
/// by one instruction each on AVX-512 (`vptestmb`) and AVX2 (two `vpmovmskb`), the rest
/// by the plain loop. The compiler's own vectorization of the loop loaded 8 bytes at a
/// time and made the bits in ten steps: 13% of labeling a 4K blob image on an Intel
/// Xeon.
fn row_masks(level: SimdLevel, row: &[u8], masks: &mut [u64]) {
    let done = match level {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
            // SAFETY: the guard just checked that the CPU has AVX-512 F and BW.
            unsafe { x86::row_masks_avx512(row, masks) }
        }
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 if SimdLevel::Avx2.is_supported() => {
            // SAFETY: the guard just checked that the CPU has AVX2.
            unsafe { x86::row_masks_avx2(row, masks) }
        }
        _ => 0,
    };
    row_masks_loop(level, &row[64 * done..], &mut masks[done..]);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Copies the whole aligned 64-byte lines of `dst` from `src` (same length) with
    /// streaming stores; returns the range copied (the caller copies the rest).
    #[target_feature(enable = "avx512f")]
    pub(super) fn stream_copy_avx512(src: &[u32], dst: &mut [u32]) -> std::ops::Range<usize> {
        let n = dst.len().min(src.len());
        let start = dst.as_ptr().align_offset(64).min(n);
        let end = start + (n - start) / 16 * 16;
        for i in (start..end).step_by(16) {
            // SAFETY: reads src[i .. i + 16] and writes dst[i .. i + 16], i + 16 <= end
            // <= n; dst + i is 64-byte aligned (start is, and the steps are 64 bytes).
            unsafe {
                let v = _mm512_loadu_si512(src.as_ptr().add(i).cast());
                _mm512_stream_si512(dst.as_mut_ptr().add(i).cast(), v);
            }
        }
        start..end
    }

    /// [`stream_copy_avx512`] with 32-byte streaming stores.
    #[target_feature(enable = "avx2")]
    pub(super) fn stream_copy_avx2(src: &[u32], dst: &mut [u32]) -> std::ops::Range<usize> {
        let n = dst.len().min(src.len());
        let start = dst.as_ptr().align_offset(32).min(n);
        let end = start + (n - start) / 8 * 8;
        for i in (start..end).step_by(8) {
            // SAFETY: reads src[i .. i + 8] and writes dst[i .. i + 8], i + 8 <= end
            // <= n; dst + i is 32-byte aligned (start is, and the steps are 32 bytes).
            unsafe {
                let v = _mm256_loadu_si256(src.as_ptr().add(i).cast());
                _mm256_stream_si256(dst.as_mut_ptr().add(i).cast(), v);
            }
        }
        start..end
    }

    /// The masks of the row's whole 64-pixel words; returns how many.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn row_masks_avx512(row: &[u8], masks: &mut [u64]) -> usize {
        let words = (row.len() / 64).min(masks.len());
        for (c, m) in masks[..words].iter_mut().enumerate() {
            // SAFETY: reads row[64c .. 64c + 64], inside the row as c < row.len() / 64.
            let v = unsafe { _mm512_loadu_si512(row.as_ptr().add(64 * c).cast()) };
            *m = _mm512_test_epi8_mask(v, v);
        }
        words
    }

    /// The masks of the row's whole 64-pixel words; returns how many.
    #[target_feature(enable = "avx2")]
    pub(super) fn row_masks_avx2(row: &[u8], masks: &mut [u64]) -> usize {
        let words = (row.len() / 64).min(masks.len());
        let zero = _mm256_setzero_si256();
        for (c, m) in masks[..words].iter_mut().enumerate() {
            let half = |k: usize| {
                // SAFETY: reads row[64c + k .. 64c + k + 32], inside the row as
                // c < row.len() / 64 and k <= 32.
                let v = unsafe { _mm256_loadu_si256(row.as_ptr().add(64 * c + k).cast()) };
                // Bits of the zero bytes, inverted.
                !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero)) as u32)
            };
            *m = u64::from(half(0)) | u64::from(half(32)) << 32;
        }
        words
    }
}

autovectorized! {
    /// The plain loop of [`row_masks`].
    fn row_masks_loop(row: &[u8], masks: &mut [u64]) {
        for (c, m) in masks.iter_mut().enumerate() {
            let chunk = &row[64 * c..(64 * c + 64).min(row.len())];
            let mut bits = 0u64;
            for (i, &v) in chunk.iter().enumerate() {
                bits |= u64::from(v != 0) << i;
            }
            *m = bits;
        }
    }
}

/// The runs of set bits in a row's masks, `(start, end)` left to right: the transitions
/// are found with bit scans, not a branch per pixel. An iterator, so that the labeling
/// loop's body sits in the caller's loop (as a closure called per run it was not
/// inlined: a call, its spills and reloads for every run).
struct Runs<'a> {
    masks: &'a [u64],
    width: usize,
    /// The next mask word to read.
    next_word: usize,
    /// Transitions of the current word not yet taken (a set bit marks a pixel whose
    /// state differs from the one before it).
    edges: u64,
    base: u32,
    start: u32,
    inside: bool,
}

impl<'a> Runs<'a> {
    fn new(masks: &'a [u64], width: usize) -> Self {
        Runs {
            masks,
            width,
            next_word: 0,
            edges: 0,
            base: 0,
            start: 0,
            inside: false,
        }
    }
}

impl Iterator for Runs<'_> {
    type Item = (u32, u32);

    #[inline]
    fn next(&mut self) -> Option<(u32, u32)> {
        loop {
            while self.edges != 0 {
                let at = self.base + self.edges.trailing_zeros();
                self.edges &= self.edges - 1;
                self.inside = !self.inside;
                if self.inside {
                    self.start = at;
                } else {
                    return Some((self.start, at));
                }
            }
            let c = self.next_word;
            let Some(&m) = self.masks.get(c) else {
                // Past the last word: a run still open ends at the row's end.
                return std::mem::take(&mut self.inside).then_some((self.start, self.width as u32));
            };
            let len = (self.width - 64 * c).min(64) as u32;
            self.edges = m ^ ((m << 1) | u64::from(self.inside));
            if len < 64 {
                self.edges &= (1u64 << len) - 1;
            }
            self.base = (64 * c) as u32;
            self.next_word = c + 1;
        }
    }
}

/// Labels rows `y0..y1` of `src` into `strip` (runs), with provisional labels from
/// `base` (global numbers; `parent` and `acc` are this strip's slices, indexed from
/// `base`). Returns the next free label.
fn label_strip(job: Job, src: &ImageView<'_, u8>, (y0, y1): (usize, usize), strip: &mut Strip) {
    let (level, reach) = (job.level, u32::from(job.conn == Connectivity::Eight));
    let Strip {
        runs,
        masks,
        row_start,
        parent,
        acc,
        paint,
    } = strip;
    paint.resize(src.width() + PAINT_STEP, 0);
    runs.clear();
    row_start.clear();
    parent.clear();
    acc.clear();
    masks.resize(src.width().div_ceil(64), 0);
    let mut prev = 0..0;
    for y in y0..y1 {
        let row = src.row(y);
        let row_begin = runs.len();
        row_start.push(row_begin);
        let w = row.len();
        row_masks(level, row, &mut masks[..w.div_ceil(64)]);
        let mut k = prev.start;
        for (s, e) in Runs::new(&masks[..w.div_ceil(64)], w) {
            // Runs above that touch [s − reach, e + reach): unite them all.
            while k < prev.end && runs[k].end + reach <= s {
                k += 1;
            }
            let mut label = u32::MAX;
            let mut j = k;
            while j < prev.end && runs[j].start < e + reach {
                let above = find(parent, runs[j].label);
                if label == u32::MAX {
                    label = above;
                } else if above != label {
                    let (lo, hi) = (label.min(above), label.max(above));
                    parent[hi as usize] = lo;
                    label = lo;
                }
                j += 1;
            }
            let run = Acc::run(y as u32, s, e);
            if label == u32::MAX {
                // Grows only past the largest count seen: no allocation on later frames
                // of the same kind, and memory follows the labels actually used.
                label = parent.len() as u32;
                parent.push(label);
                acc.push(run);
            } else {
                acc[label as usize].merge(&run);
            }
            runs.push(Run {
                start: s,
                end: e,
                label,
            });
        }
        prev = row_begin..runs.len();
    }
    row_start.push(runs.len());
}

/// What every strip of one labeling shares.
#[derive(Clone, Copy)]
struct Job {
    level: SimdLevel,
    conn: Connectivity,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize]; // path halving
        x = p;
    }
    x
}

/// Labels written per store when painting a row: stores of this many equal labels (or
/// zeros) cover each run and each gap, overshooting into what comes next, which the
/// next stores overwrite; the row buffer has this much slack at the end.
const PAINT_STEP: usize = 16;

autovectorized! {
    /// Paints one row into `buf` (the row's width plus [`PAINT_STEP`]): zeros between
    /// the runs, `final_label[offset + run.label]` in them. A few whole-step stores per
    /// run instead of a clear of the row and a store per pixel (compiled per SIMD level:
    /// a step is one 512-bit store on AVX-512, four 128-bit ones in baseline x86 code).
    fn paint_row(runs: &[Run], final_label: &[u32], offset: u32, buf: &mut [u32]) {
        let width = buf.len() - PAINT_STEP;
        let mut fill = |from: usize, to: usize, value: u32| {
            let mut x = from;
            while x < to {
                buf[x..x + PAINT_STEP].copy_from_slice(&[value; PAINT_STEP]);
                x += PAINT_STEP;
            }
        };
        // Everything before `done` holds its final value.
        let mut done = 0;
        for run in runs {
            let (start, end) = (run.start as usize, run.end as usize);
            fill(done, start, 0);
            fill(start, end, final_label[(offset + run.label) as usize]);
            done = end;
        }
        fill(done, width, 0);
    }
}

/// Paints the label image from the strips' runs, strips in parallel.
fn paint_strips(
    (level, stream): (SimdLevel, bool),
    labels: ImageViewMut<'_, u32>,
    strips: &mut [Strip],
    offsets: &[u32],
    rows_per: usize,
    final_label: &[u32],
) {
    if strips.len() > 1 {
        let half = strips.len() / 2;
        if let Some((top, bottom)) = labels.split_at_row_mut(half * rows_per) {
            let (s0, s1) = strips.split_at_mut(half);
            let (o0, o1) = offsets.split_at(half);
            rayon::join(
                || paint_strips((level, stream), top, s0, o0, rows_per, final_label),
                || paint_strips((level, stream), bottom, s1, o1, rows_per, final_label),
            );
        }
        return;
    }
    let (strip, offset) = (&mut strips[0], offsets[0]);
    let mut labels = labels;
    let width = labels.width();
    for (r, out) in labels.rows_mut().enumerate() {
        let runs = &strip.runs[strip.row_start[r]..strip.row_start[r + 1]];
        paint_row(level, runs, final_label, offset, &mut strip.paint);
        copy_row(level, stream, &strip.paint[..width], out);
    }
    #[cfg(target_arch = "x86_64")]
    if stream {
        // Streaming stores are weakly ordered: complete them before this thread's part
        // is reported done.
        // SAFETY: SSE is part of every x86_64 CPU.
        unsafe { std::arch::x86_64::_mm_sfence() };
    }
}

/// Copies a painted row out: with streaming stores (whole aligned 64-byte lines, the
/// destination not read into the cache first) when `stream` and the level has them.
fn copy_row(level: SimdLevel, stream: bool, src: &[u32], dst: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if stream {
        let done = match level {
            SimdLevel::Avx512 | SimdLevel::Avx512Vbmi if SimdLevel::Avx512.is_supported() => {
                // SAFETY: the guard just checked that the CPU has AVX-512 F.
                unsafe { x86::stream_copy_avx512(src, dst) }
            }
            SimdLevel::Avx2 if SimdLevel::Avx2.is_supported() => {
                // SAFETY: the guard just checked that the CPU has AVX2.
                unsafe { x86::stream_copy_avx2(src, dst) }
            }
            _ => 0..0,
        };
        if !done.is_empty() {
            dst[..done.start].copy_from_slice(&src[..done.start]);
            dst[done.end..].copy_from_slice(&src[done.end..]);
            return;
        }
    }
    let _ = (level, stream);
    dst.copy_from_slice(src);
}

/// Most strips labeled in parallel.
const MAX_STRIPS: usize = 64;

/// A reusable labeler: run lists, union-find arrays and statistics are kept between
/// calls and grow with the labels actually used, so labeling frames of one kind
/// allocates nothing after the first.
#[derive(Debug)]
pub struct Labeler {
    conn: Connectivity,
    strips: Vec<Strip>,
    /// First global label of each strip's provisional labels.
    offsets: Vec<u32>,
    /// Union-find over all provisional labels (global numbers).
    parent: Vec<u32>,
    final_label: Vec<u32>,
    stats: Vec<ComponentStats>,
    /// Runs (and so provisional labels) to have room for without growing.
    reserved_runs: usize,
}

impl Labeler {
    pub fn new(conn: Connectivity) -> Self {
        Labeler {
            conn,
            strips: Vec::new(),
            offsets: Vec::new(),
            parent: Vec::new(),
            final_label: Vec::new(),
            stats: Vec::new(),
            reserved_runs: 0,
        }
    }

    /// Makes room for frames of up to `runs` foreground runs in all, so that labeling
    /// them allocates nothing even the first time a strip sees that many (a live
    /// pipeline reserves once at start-up instead of growing on an unlucky frame).
    pub fn reserve(&mut self, runs: usize) {
        self.reserved_runs = runs;
        self.parent.reserve(runs + 1);
        self.final_label.reserve(runs + 1);
        self.stats.reserve(runs);
    }

    pub fn connectivity(&self) -> Connectivity {
        self.conn
    }

    /// The statistics of the last [`Self::label`] call.
    pub fn stats(&self) -> &[ComponentStats] {
        &self.stats
    }

    /// Labels `src` into `labels` (0 = background, components 1..=n in raster order of
    /// their first pixel) and returns their statistics (index i is label i + 1).
    pub fn label(
        &mut self,
        src: &ImageView<'_, u8>,
        labels: &mut ImageViewMut<'_, u32>,
    ) -> Result<&[ComponentStats]> {
        use rayon::prelude::*;
        check_same_size("label image", src.size(), labels.size())?;
        let (w, h) = src.size();
        // Provisional labels are u32: at most one per run, ceil(w/2) runs per row.
        if w.div_ceil(2)
            .checked_mul(h)
            .is_none_or(|n| n >= u32::MAX as usize)
        {
            return Err(Error::TooLarge {
                width: w,
                height: h,
            });
        }
        let threads = rayon::current_num_threads();
        let want = if threads > 1 && w * h >= 1 << 18 {
            (threads * 2).min(MAX_STRIPS)
        } else {
            1
        };
        let rows_per = h.div_ceil(want.min(h));
        let strips = h.div_ceil(rows_per);
        if self.strips.len() < strips {
            self.strips.resize_with(strips, Strip::default);
        }
        if self.reserved_runs > 0 {
            // A strip may hold all the runs of a frame (defects need not spread out).
            for strip in &mut self.strips[..strips] {
                let r = self.reserved_runs;
                strip.runs.reserve(r.saturating_sub(strip.runs.len()));
                strip.parent.reserve(r.saturating_sub(strip.parent.len()));
                strip.acc.reserve(r.saturating_sub(strip.acc.len()));
            }
        }
        let job = Job {
            level: simd::level()?,
            conn: self.conn,
        };
        self.strips[..strips]
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, strip)| {
                let y0 = i * rows_per;
                label_strip(job, src, (y0, (y0 + rows_per).min(h)), strip);
            });
        // Global numbering: strip i's local label l is offsets[i] + l (label 0 unused).
        self.offsets.clear();
        self.parent.clear();
        self.parent.push(0);
        for strip in &self.strips[..strips] {
            let offset = self.parent.len() as u32;
            self.offsets.push(offset);
            self.parent.extend(strip.parent.iter().map(|&p| p + offset));
        }
        self.final_label.clear();
        self.final_label.resize(self.parent.len(), 0);
        // Unite across strip borders: the last row of each strip with the first below.
        let reach = u32::from(self.conn == Connectivity::Eight);
        for i in 1..strips {
            let (upper, lower) = (&self.strips[i - 1], &self.strips[i]);
            let (up_off, low_off) = (self.offsets[i - 1], self.offsets[i]);
            let last = upper.row_start[upper.row_start.len() - 2]..upper.runs.len();
            let first = lower.row_start[0]..lower.row_start[1.min(lower.row_start.len() - 1)];
            // The upper strip's last row lies right above the lower one's first.
            if last.is_empty() || first.is_empty() {
                continue;
            }
            let mut k = last.start;
            for r in &lower.runs[first] {
                while k < last.end && upper.runs[k].end + reach <= r.start {
                    k += 1;
                }
                let mut j = k;
                while j < last.end && upper.runs[j].start < r.end + reach {
                    let a = find(&mut self.parent, upper.runs[j].label + up_off);
                    let b = find(&mut self.parent, r.label + low_off);
                    let (lo, hi) = (a.min(b), a.max(b));
                    self.parent[hi as usize] = lo;
                    j += 1;
                }
            }
        }
        // Final labels in order of each class's smallest provisional label (its first
        // pixel in raster order); statistics merged into them.
        self.stats.clear();
        for (strip, &offset) in self.strips[..strips].iter().zip(&self.offsets) {
            for (l, a) in strip.acc.iter().enumerate() {
                let g = offset as usize + l;
                let root = find(&mut self.parent, g as u32) as usize;
                if root == g {
                    self.stats.push(ComponentStats {
                        label: self.stats.len() as u32 + 1,
                        area: a.area,
                        left: a.x0,
                        top: a.y0,
                        width: a.x1 - a.x0 + 1,
                        height: a.y1 - a.y0 + 1,
                        centroid_x: a.sum_x as f64,
                        centroid_y: a.sum_y as f64,
                    });
                    self.final_label[g] = self.stats.len() as u32;
                } else {
                    let f = self.final_label[root];
                    self.final_label[g] = f;
                    let s = &mut self.stats[f as usize - 1];
                    let (x1, y1) = (
                        (s.left + s.width - 1).max(a.x1),
                        (s.top + s.height - 1).max(a.y1),
                    );
                    s.left = s.left.min(a.x0);
                    s.top = s.top.min(a.y0);
                    s.width = x1 - s.left + 1;
                    s.height = y1 - s.top + 1;
                    s.area += a.area;
                    s.centroid_x += a.sum_x as f64;
                    s.centroid_y += a.sum_y as f64;
                }
            }
        }
        for s in &mut self.stats {
            s.centroid_x /= s.area as f64;
            s.centroid_y /= s.area as f64;
        }
        // Paint every row once: zeros between runs, final labels in them; strips in parallel.
        // A label image larger than the caches goes out with streaming stores: nothing
        // reads it back soon, and its lines need not be read in first (4K blobs, one
        // thread, on an Intel Xeon: 18.9 -> 16.8 ms).
        let stream = w * h * size_of::<u32>() >= crate::kernels::STREAM_MIN_BYTES;
        paint_strips(
            (job.level, stream),
            labels.reborrow(),
            &mut self.strips[..strips],
            &self.offsets,
            rows_per,
            &self.final_label,
        );
        Ok(&self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_copy_out_on_every_level_streamed_or_not() {
        let src: Vec<u32> = (0..1100u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        for level in SimdLevel::supported() {
            for stream in [false, true] {
                for first in 0..17 {
                    for len in [0, 1, 7, 8, 9, 15, 16, 17, 33, 100, 1000] {
                        let mut dst = vec![0u32; first + len + 3];
                        copy_row(level, stream, &src[..len], &mut dst[first..first + len]);
                        assert_eq!(
                            &dst[first..first + len],
                            &src[..len],
                            "{level} {first} {len}"
                        );
                        assert!(
                            dst[..first]
                                .iter()
                                .chain(&dst[first + len..])
                                .all(|&v| v == 0)
                        );
                    }
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE is part of every x86_64 CPU.
        unsafe {
            std::arch::x86_64::_mm_sfence()
        };
    }

    #[test]
    fn runs_are_the_rows_foreground_at_every_word_boundary() {
        let mut state = 11u32;
        for w in [1usize, 2, 63, 64, 65, 127, 128, 129, 200] {
            let rows: Vec<Vec<bool>> = vec![
                vec![true; w],
                vec![false; w],
                (0..w).map(|x| x == 63 || x == 64 || x + 1 == w).collect(),
                (0..w).map(|x| x % 64 == 63).collect(),
                (0..w)
                    .map(|_| {
                        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        state >> 31 == 1
                    })
                    .collect(),
            ];
            for row in rows {
                let mut masks = vec![0u64; w.div_ceil(64)];
                for (x, &on) in row.iter().enumerate() {
                    masks[x / 64] |= u64::from(on) << (x % 64);
                }
                let mut want = Vec::new();
                let mut x = 0;
                while x < w {
                    if row[x] {
                        let start = x;
                        while x < w && row[x] {
                            x += 1;
                        }
                        want.push((start as u32, x as u32));
                    } else {
                        x += 1;
                    }
                }
                let got: Vec<(u32, u32)> = Runs::new(&masks, w).collect();
                assert_eq!(got, want, "width {w}");
            }
        }
    }

    #[test]
    fn row_masks_on_every_level_match_the_pixels() {
        let mut state = 7u32;
        for w in [1usize, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 3840] {
            // Sparse zeros and non-zeros, and the values 0x80.. whose sign bit is set.
            let row: Vec<u8> = (0..w)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    match state >> 29 {
                        0..=3 => 0,
                        4 => 0x80,
                        _ => (state >> 8) as u8,
                    }
                })
                .collect();
            for level in SimdLevel::supported() {
                let mut masks = vec![!0u64; w.div_ceil(64)];
                row_masks(level, &row, &mut masks);
                for (x, &v) in row.iter().enumerate() {
                    let bit = masks[x / 64] >> (x % 64) & 1;
                    assert_eq!(bit == 1, v != 0, "{level} width {w} pixel {x}");
                }
                if w % 64 != 0 {
                    let last = masks[w / 64] >> (w % 64);
                    assert_eq!(last, 0, "{level} width {w}: bits past the row");
                }
            }
        }
    }
}
