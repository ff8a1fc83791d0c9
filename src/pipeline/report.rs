//! What the pipeline reports: one JSON line per frame, annotated snapshots, and the
//! detection score against a synthetic camera's ground truth.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::capture::{Defect, FrameMeta};
use crate::image::Image;
use crate::kernels::components::ComponentStats;
use crate::{Error, Result};

/// Writes one frame's JSON line into `out` (cleared first; no allocation once `out`
/// has grown to the longest line):
///
/// `{"seq":12,"timestamp_us":400000,"latency_us":5210,"defects":[{"x":10,"y":20,"w":8,"h":9,"area":57,"cx":13.9,"cy":24.1}]}`
pub fn json_line(
    out: &mut Vec<u8>,
    meta: &FrameMeta,
    latency: Duration,
    defects: &[ComponentStats],
    overflow: usize,
) {
    out.clear();
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{{\"seq\":{},\"timestamp_us\":{},\"latency_us\":{},\"defects\":[",
        meta.sequence,
        meta.timestamp.as_micros(),
        latency.as_micros()
    );
    for (i, d) in defects.iter().enumerate() {
        let _ = write!(
            out,
            "{}{{\"x\":{},\"y\":{},\"w\":{},\"h\":{},\"area\":{},\"cx\":{:.2},\"cy\":{:.2}}}",
            if i > 0 { "," } else { "" },
            d.left,
            d.top,
            d.width,
            d.height,
            d.area,
            d.centroid_x,
            d.centroid_y
        );
    }
    out.extend_from_slice(b"]");
    if overflow > 0 {
        let _ = write!(out, ",\"defects_not_listed\":{overflow}");
    }
    out.extend_from_slice(b"}\n");
}

/// Found, missed and false detections over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DetectionScore {
    pub frames: u64,
    pub injected: u64,
    pub found: u64,
    pub missed: u64,
    pub false_detections: u64,
    /// Frames with any miss or false detection.
    pub frames_wrong: u64,
}

impl DetectionScore {
    /// Scores one frame: an injected defect is found when a detection's centroid lies
    /// in its bounding box (one detection per defect); other detections are false.
    pub fn add_frame(&mut self, truth: &[Defect], found: &[ComponentStats]) {
        let mut hit = 0u64;
        for t in truth {
            let inside = |d: &&ComponentStats| {
                let (cx, cy) = (d.centroid_x, d.centroid_y);
                cx >= t.left as f64
                    && cx < (t.left + t.width) as f64
                    && cy >= t.top as f64
                    && cy < (t.top + t.height) as f64
            };
            if found.iter().filter(inside).count() == 1 {
                hit += 1;
            }
        }
        let truth_n = truth.len() as u64;
        let false_n = (found.len() as u64).saturating_sub(hit);
        self.frames += 1;
        self.injected += truth_n;
        self.found += hit;
        self.missed += truth_n - hit;
        self.false_detections += false_n;
        if hit < truth_n || false_n > 0 {
            self.frames_wrong += 1;
        }
    }

    pub fn is_perfect(&self) -> bool {
        self.missed == 0 && self.false_detections == 0
    }
}

/// Draws each defect's bounding box (one pixel outside it, white on dark pixels and
/// black on light ones) into `img`.
pub fn annotate(img: &mut Image<u8>, defects: &[ComponentStats]) {
    let (w, h) = img.size();
    let mut plot = |x: i64, y: i64| {
        if x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h {
            let p = &mut img.row_mut(y as usize)[x as usize];
            *p = if *p < 128 { 255 } else { 0 };
        }
    };
    for d in defects {
        let (x0, y0) = (i64::from(d.left) - 2, i64::from(d.top) - 2);
        let (x1, y1) = (
            i64::from(d.left + d.width) + 1,
            i64::from(d.top + d.height) + 1,
        );
        for x in x0..=x1 {
            plot(x, y0);
            plot(x, y1);
        }
        for y in y0 + 1..y1 {
            plot(x0, y);
            plot(x1, y);
        }
    }
}

/// Saves annotated snapshots on its own thread, at most one at a time: a frame offered
/// while the previous one is still being encoded is skipped.
pub struct SnapshotWriter {
    shared: std::sync::Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    interval: Duration,
    last: Option<std::time::Instant>,
}

struct Shared {
    /// The frame to save and its sequence; `Some` while waiting for the thread.
    slot: std::sync::Mutex<(Image<u8>, u64, bool)>,
    wake: std::sync::Condvar,
    dir: PathBuf,
    saved: std::sync::atomic::AtomicU64,
}

impl SnapshotWriter {
    pub fn new(dir: PathBuf, size: (usize, usize), interval: Duration) -> Result<Self> {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let shared = std::sync::Arc::new(Shared {
            slot: std::sync::Mutex::new((Image::new(size.0, size.1)?, 0, false)),
            wake: std::sync::Condvar::new(),
            dir,
            saved: 0.into(),
        });
        let thread = {
            let shared = std::sync::Arc::clone(&shared);
            std::thread::Builder::new()
                .name("snapshots".into())
                .spawn(move || shared.run())
                .map_err(|e| Error::ThreadPool(e.to_string()))?
        };
        Ok(SnapshotWriter {
            shared,
            thread: Some(thread),
            interval,
            last: None,
        })
    }

    /// Offers a frame with defects; copies and annotates it if a snapshot is due and the
    /// writer is idle.
    pub fn offer(&mut self, frame: &Image<u8>, sequence: u64, defects: &[ComponentStats]) {
        let now = std::time::Instant::now();
        if defects.is_empty() || self.last.is_some_and(|t| now - t < self.interval) {
            return;
        }
        let Ok(mut slot) = self.shared.slot.try_lock() else {
            return;
        };
        if slot.2 {
            return; // still encoding the previous one
        }
        if slot.0.as_view_mut().copy_from(&frame.as_view()).is_err() {
            return;
        }
        annotate(&mut slot.0, defects);
        slot.1 = sequence;
        slot.2 = true;
        self.last = Some(now);
        self.shared.wake.notify_one();
    }

    /// Waits for a pending snapshot, stops the thread and returns how many were saved.
    pub fn finish(mut self) -> u64 {
        self.shutdown();
        self.shared.saved.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        {
            let mut slot = self.shared.slot.lock().unwrap_or_else(|p| p.into_inner());
            // Let a pending snapshot finish, then ask the thread to stop.
            while slot.2 {
                drop(slot);
                std::thread::sleep(Duration::from_millis(5));
                slot = self.shared.slot.lock().unwrap_or_else(|p| p.into_inner());
            }
            slot.1 = u64::MAX;
            slot.2 = true;
        }
        self.shared.wake.notify_one();
        let _ = thread.join();
    }
}

impl Shared {
    fn run(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while !slot.2 {
                slot = self.wake.wait(slot).unwrap_or_else(|p| p.into_inner());
            }
            if slot.1 == u64::MAX {
                return;
            }
            let path = self.dir.join(format!("defects-{:08}.png", slot.1));
            match crate::image::save(&path, crate::AnyView::U8(slot.0.as_view())) {
                Ok(()) => {
                    self.saved
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => log::warn!("snapshot: {e}"),
            }
            slot.2 = false;
        }
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(x: u32, y: u32, w: u32, h: u32) -> ComponentStats {
        ComponentStats {
            label: 1,
            area: u64::from(w * h),
            left: x,
            top: y,
            width: w,
            height: h,
            centroid_x: f64::from(x) + f64::from(w) / 2.0,
            centroid_y: f64::from(y) + f64::from(h) / 2.0,
        }
    }

    #[test]
    fn json_line_is_valid_json() {
        let meta = FrameMeta {
            sequence: 7,
            timestamp: Duration::from_millis(233),
            arrived: std::time::Instant::now(),
            age_at_arrival: Duration::ZERO,
            copy_time: Duration::ZERO,
        };
        let mut out = Vec::new();
        json_line(
            &mut out,
            &meta,
            Duration::from_micros(4100),
            &[stats(1, 2, 3, 4), stats(9, 9, 2, 2)],
            3,
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["latency_us"], 4100);
        assert_eq!(v["defects"][1]["x"], 9);
        assert_eq!(v["defects_not_listed"], 3);
        json_line(&mut out, &meta, Duration::ZERO, &[], 0);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["defects"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn score_counts_hits_misses_and_false() {
        let truth = [
            Defect {
                left: 10,
                top: 10,
                width: 10,
                height: 10,
                area: 80,
            },
            Defect {
                left: 50,
                top: 50,
                width: 10,
                height: 10,
                area: 80,
            },
        ];
        let mut s = DetectionScore::default();
        s.add_frame(&truth, &[stats(10, 10, 10, 10), stats(50, 50, 10, 10)]);
        assert!(s.is_perfect());
        s.add_frame(&truth, &[stats(10, 10, 10, 10), stats(90, 90, 4, 4)]);
        assert_eq!(
            (s.found, s.missed, s.false_detections, s.frames_wrong),
            (3, 1, 1, 1)
        );
    }
}
