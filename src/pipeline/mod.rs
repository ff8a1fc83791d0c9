//! The live inspection pipeline: a capture thread fills preallocated frame slots and
//! hands them through a lock-free ring to the worker, which runs the stages (using a
//! rayon pool inside each stage) and reports.
//!
//! ```text
//! capture thread (pinned)            worker (pinned, + rayon pool on the other cores)
//! source.next_frame(slot) ──ready──▶ stages → defects → JSON line, snapshot, profile
//!        ▲                                                    │
//!        └───────────────────────free─────────────────────────┘
//! ```
//!
//! When the worker falls behind a live source, the capture thread takes back the oldest
//! queued frame and reuses its slot (counted as dropped); a replay waits instead. After
//! warm-up nothing is allocated per frame (tests/pipeline_alloc.rs proves it).

pub mod config;
pub mod profile;
pub mod report;
pub mod ring;
pub mod stages;

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

pub use config::InspectConfig;
pub use profile::{Histogram, Profile};
pub use report::DetectionScore;
pub use ring::{FramePool, SlotRing};
pub use stages::Stages;

use crate::capture::{Grab, GroundTruth, Pacing, Source};
use crate::{Error, Result};

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub source: String,
    pub size: (usize, usize),
    /// Frames the worker processed.
    pub frames: u64,
    /// Frames dropped because the worker fell behind (live sources).
    pub dropped_behind: u64,
    /// Frames the source lost itself (sequence gaps).
    pub dropped_source: u64,
    /// Capture timeouts and stream recoveries.
    pub timeouts: u64,
    pub recoveries: u64,
    /// Defects reported over the run.
    pub defects: u64,
    pub elapsed: Duration,
    pub profile: Profile,
    /// Against the ground truth, for a synthetic source.
    pub detection: Option<DetectionScore>,
    pub snapshots: u64,
    /// The error that ended the run early, if any (the summary still holds what was done).
    pub error: Option<String>,
    /// Cores the capture thread and the workers were pinned to (empty: not pinned).
    pub capture_core: Option<usize>,
    pub worker_cores: Vec<usize>,
}

impl RunSummary {
    /// Frames processed per second of the run.
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Hooks for tests and front ends.
#[derive(Default)]
pub struct Hooks<'a> {
    /// Called by the worker after each frame with the number of frames processed so far.
    pub after_frame: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Opens the configured source and builds the stages for its frame size (the
/// synthetic camera calibrates the flat field itself when no files are given).
pub fn build(cfg: &InspectConfig) -> Result<(Box<dyn Source>, Stages)> {
    cfg.validate()?;
    let spec = cfg.source.spec()?;
    let opts = cfg.source.options();
    if spec == crate::capture::SourceSpec::Synthetic {
        let camera = crate::capture::SyntheticCamera::new(
            crate::capture::SyntheticConfig::from_options(&opts),
        )?;
        let stages = Stages::new(cfg, camera.size(), Some(&camera))?;
        return Ok((Box::new(camera), stages));
    }
    let source = crate::capture::open(&spec, &opts)?;
    let stages = Stages::new(cfg, source.size(), None)?;
    Ok((source, stages))
}

/// Where the cores go: `(capture core, worker cores)`.
fn plan_cores(cfg: &config::ThreadConfig) -> (Option<usize>, Vec<usize>) {
    let all: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !cfg.pin || all.is_empty() {
        return (None, Vec::new());
    }
    let capture = cfg.capture_core.unwrap_or(all[0]);
    let workers = cfg.worker_cores.clone().unwrap_or_else(|| {
        // The capture thread gets a core of its own when there are at least three.
        let others: Vec<usize> = all.iter().copied().filter(|&c| c != capture).collect();
        if all.len().min(n) >= 3 {
            others
        } else {
            all.clone()
        }
    });
    (Some(capture), workers)
}

fn pin(core: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: core })
}

/// Runs the pipeline until the source ends, `cfg.run` limits are reached, or `stop`
/// is set (Ctrl-C). `sink` receives the JSON lines.
pub fn run(
    cfg: &InspectConfig,
    mut source: Box<dyn Source>,
    mut stages: Stages,
    sink: Option<&mut (dyn Write + Send)>,
    stop: &AtomicBool,
    hooks: &Hooks<'_>,
) -> Result<RunSummary> {
    let size = source.size();
    let description = source.describe();
    let truth = source.ground_truth();
    let pacing = source.pacing();
    let slots = cfg.run.ring.max(1) + 2;
    let pool = FramePool::new(slots, size.0, size.1)?;
    let ready = SlotRing::new(slots);
    let free = SlotRing::new(slots);
    for s in 0..slots {
        free.push(s).expect("ring holds every slot");
    }
    let (capture_core, worker_cores) = plan_cores(&cfg.threads);
    let threads = worker_cores.len().max(
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(if worker_cores.is_empty() {
                usize::MAX
            } else {
                1
            }),
    );
    let rayon_pool = {
        let cores = worker_cores.clone();
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("worker-{i}"))
            .start_handler(move |i| {
                if let Some(&c) = cores.get(i)
                    && !pin(c)
                {
                    log::warn!("could not pin worker {i} to core {c}");
                }
            })
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?
    };
    let shared = Shared {
        pool,
        ready,
        free,
        capture_done: AtomicBool::new(false),
        worker_done: AtomicBool::new(false),
        worker: OnceLock::new(),
        capture: OnceLock::new(),
        dropped_behind: AtomicU64::new(0),
        timeouts: AtomicU64::new(0),
    };
    cfg.validate()?;
    let deadline = cfg.run.seconds.map(Duration::from_secs_f64);
    let frame_limit = cfg.run.frames;
    let frame_timeout = Duration::from_secs_f64(cfg.run.frame_timeout.max(0.001));
    let start = Instant::now();

    let (capture_result, worker_result) = std::thread::scope(|scope| {
        let capture = std::thread::Builder::new()
            .name("capture".into())
            .spawn_scoped(scope, || {
                // However this thread ends (even by a panic), the worker must learn it.
                struct Done<'a>(&'a Shared);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.0.capture_done.store(true, Ordering::Release);
                        if let Some(w) = self.0.worker.get() {
                            w.unpark();
                        }
                    }
                }
                let _done = Done(&shared);
                let _ = shared.capture.set(std::thread::current());
                if let Some(c) = capture_core
                    && !pin(c)
                {
                    log::warn!("could not pin the capture thread to core {c}");
                }
                let r = capture_loop(
                    &shared,
                    source.as_mut(),
                    pacing,
                    stop,
                    frame_limit,
                    deadline.map(|d| start + d),
                    frame_timeout,
                );
                (r, source.dropped(), source.recoveries())
            })
            .map_err(|e| Error::ThreadPool(e.to_string()));
        if capture.is_err() {
            shared.capture_done.store(true, Ordering::Release);
        }
        let worker = rayon_pool.install(|| {
            let _ = shared.worker.set(std::thread::current());
            let r = worker_loop(cfg, &shared, &mut stages, sink, truth.as_ref(), stop, hooks);
            shared.worker_done.store(true, Ordering::Release);
            if let Some(c) = shared.capture.get() {
                c.unpark();
            }
            r
        });
        let capture = match capture {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                (
                    Err(Error::Capture {
                        source_name: description.clone(),
                        reason: "the capture thread panicked".into(),
                    }),
                    0,
                    0,
                )
            }),
            Err(e) => (Err(e), 0, 0),
        };
        (capture, worker)
    });
    let (capture_res, dropped_source, recoveries) = capture_result;
    let mut w = worker_result;
    // The worker's own error wins; a capture error ends the run but keeps its results.
    let error = w.error.take().or(capture_res.err().map(|e| e.to_string()));
    Ok(RunSummary {
        source: description,
        size,
        frames: w.frames,
        dropped_behind: shared.dropped_behind.load(Ordering::Relaxed),
        dropped_source,
        timeouts: shared.timeouts.load(Ordering::Relaxed),
        recoveries,
        defects: w.defects,
        elapsed: start.elapsed(),
        profile: w.profile,
        detection: truth.map(|_| w.score),
        snapshots: w.snapshots,
        error,
        capture_core,
        worker_cores,
    })
}

struct Shared {
    pool: FramePool,
    ready: SlotRing,
    free: SlotRing,
    /// Set when the capture thread ends, however it ends (a drop guard).
    capture_done: AtomicBool,
    /// Set when the worker stops (done, or an error): capture must stop too.
    worker_done: AtomicBool,
    worker: OnceLock<Thread>,
    capture: OnceLock<Thread>,
    dropped_behind: AtomicU64,
    timeouts: AtomicU64,
}

const IDLE_WAIT: Duration = Duration::from_millis(2);

fn capture_loop(
    shared: &Shared,
    source: &mut dyn Source,
    pacing: Pacing,
    stop: &AtomicBool,
    frame_limit: Option<u64>,
    deadline: Option<Instant>,
    frame_timeout: Duration,
) -> Result<()> {
    let mut captured = 0u64;
    // A slot taken but not filled yet (after a timeout), kept for the next try. Slots
    // held here when the run ends are simply not returned: capture is the `free`
    // ring's consumer, never its producer.
    let mut held: Option<usize> = None;
    loop {
        if stop.load(Ordering::Relaxed)
            || shared.worker_done.load(Ordering::Acquire)
            || frame_limit.is_some_and(|n| captured >= n)
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            return Ok(());
        }
        let slot = match held.take().or_else(|| shared.free.pop()) {
            Some(s) => s,
            None if pacing == Pacing::Live => match shared.ready.evict_oldest() {
                Some(s) => {
                    shared.dropped_behind.fetch_add(1, Ordering::Relaxed);
                    s
                }
                None => {
                    // Every slot is with the worker: nothing to drop, wait a moment.
                    std::thread::park_timeout(IDLE_WAIT);
                    continue;
                }
            },
            None => {
                std::thread::park_timeout(IDLE_WAIT);
                continue;
            }
        };
        let grab = {
            let mut frame = shared.pool.frame(slot);
            source.next_frame(&mut frame, frame_timeout)
        };
        match grab {
            Ok(Grab::Frame) => {
                captured += 1;
                shared
                    .ready
                    .push(slot)
                    .expect("ready ring holds every slot");
                if let Some(w) = shared.worker.get() {
                    w.unpark();
                }
            }
            Ok(Grab::Timeout) => {
                shared.timeouts.fetch_add(1, Ordering::Relaxed);
                held = Some(slot);
            }
            Ok(Grab::End) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// The status line on stderr every few seconds (also while no frames come).
struct Status {
    every: Option<Duration>,
    start: Instant,
    last: Instant,
}

impl Status {
    fn new(seconds: f64) -> Self {
        let now = Instant::now();
        Status {
            every: Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|d| !d.is_zero()),
            start: now,
            last: now,
        }
    }

    fn tick(&mut self, r: &WorkerResult, shared: &Shared) {
        let Some(every) = self.every else { return };
        let now = Instant::now();
        if now - self.last < every {
            return;
        }
        self.last = now;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let secs = (now - self.start).as_secs_f64();
        let p = &r.profile;
        eprintln!(
            "[{secs:6.1} s] {} frames, {:.1} fps, dropped {} behind, {} timeouts; stages median {:.2} p99 {:.2} max {:.2} ms; capture->result median {:.2} p99 {:.2} max {:.2} ms",
            r.frames,
            r.frames as f64 / secs,
            shared.dropped_behind.load(Ordering::Relaxed),
            shared.timeouts.load(Ordering::Relaxed),
            ms(p.total.median()),
            ms(p.total.quantile(0.99)),
            ms(p.total.max()),
            ms(p.latency.median()),
            ms(p.latency.quantile(0.99)),
            ms(p.latency.max()),
        );
    }
}

struct WorkerResult {
    frames: u64,
    defects: u64,
    profile: Profile,
    score: DetectionScore,
    snapshots: u64,
    error: Option<String>,
}

fn worker_loop(
    cfg: &InspectConfig,
    shared: &Shared,
    stages: &mut Stages,
    mut sink: Option<&mut (dyn Write + Send)>,
    truth: Option<&GroundTruth>,
    stop: &AtomicBool,
    hooks: &Hooks<'_>,
) -> WorkerResult {
    let mut r = WorkerResult {
        frames: 0,
        defects: 0,
        profile: Profile::new(stages.names()),
        score: DetectionScore::default(),
        snapshots: 0,
        error: None,
    };
    let mut line = Vec::with_capacity(64 * 1024);
    let mut truth_buf = Vec::with_capacity(truth.map_or(0, |t| t.max_defects()));
    let mut snapshots = cfg.output.snapshots.as_ref().and_then(|dir| {
        let size = shared.pool.frame(0).image.size();
        let every = Duration::try_from_secs_f64(cfg.output.snapshot_interval).unwrap_or_default();
        report::SnapshotWriter::new(dir.clone(), size, every)
            .map_err(|e| log::warn!("snapshots disabled: {e}"))
            .ok()
    });
    let mut status = Status::new(cfg.run.status_interval);
    loop {
        let Some(slot) = shared.ready.pop() else {
            if (shared.capture_done.load(Ordering::Acquire) && shared.ready.is_empty())
                || stop.load(Ordering::Relaxed)
            {
                break;
            }
            std::thread::park_timeout(IDLE_WAIT);
            status.tick(&r, shared);
            continue;
        };
        let frame = shared.pool.frame(slot);
        let warm = r.frames >= cfg.run.warmup;
        let t0 = Instant::now();
        let result = stages.process(&frame.image, if warm { Some(&mut r.profile) } else { None });
        if let Err(e) = result {
            {
                r.error = Some(e.to_string());
                drop(frame);
                let _ = shared.free.push(slot);
                break;
            }
        }
        let defects = stages.defects();
        let done = Instant::now();
        let latency = frame.meta.latency_at(done);
        if warm {
            r.profile.total.record(done - t0);
            r.profile.capture.record(frame.meta.copy_time);
            r.profile.latency.record(latency);
        }
        r.defects += defects.len() as u64;
        if let Some(t) = truth {
            t.defects(frame.meta.sequence, &mut truth_buf);
            r.score.add_frame(&truth_buf, defects);
        }
        if let Some(out) = sink.as_deref_mut() {
            report::json_line(&mut line, &frame.meta, latency, defects, stages.overflow());
            if let Err(e) = out.write_all(&line) {
                r.error = Some(format!("writing the JSON lines: {e}"));
                drop(frame);
                let _ = shared.free.push(slot);
                break;
            }
        }
        if let Some(s) = snapshots.as_mut() {
            let seq = frame.meta.sequence;
            s.offer(&frame.image, seq, defects);
        }
        drop(frame);
        let _ = shared.free.push(slot);
        if let Some(c) = shared.capture.get() {
            c.unpark();
        }
        r.frames += 1;
        if let Some(f) = hooks.after_frame {
            f(r.frames);
        }
        status.tick(&r, shared);
    }
    if let Some(out) = sink
        && let Err(e) = out.flush()
    {
        r.error
            .get_or_insert(format!("writing the JSON lines: {e}"));
    }
    r.snapshots = snapshots.map_or(0, report::SnapshotWriter::finish);
    r
}
