//! A V4L2 camera: format negotiation through the `v4l` crate, and our own mmap
//! streaming loop on its raw ioctls, so that each driver buffer goes back to the driver
//! the moment its frame is copied into our slot.
//!
//! Why not `v4l::io::mmap::Stream`: it re-queues a buffer only at the *next* call (the
//! driver is one buffer short while we process), after a poll timeout it re-queues a
//! buffer that is already queued, and its `Drop` panics when `STREAMOFF` fails. Here:
//!
//! - `poll` with a timeout, never a blocking wait; a timeout dequeues nothing, so
//!   nothing stale is re-queued;
//! - dequeue → check `bytesused` and the error flag → convert/copy into the slot →
//!   re-queue at once;
//! - driver sequence numbers give dropped frames (gaps), driver timestamps the frame's
//!   age on arrival (`CLOCK_MONOTONIC`);
//! - a stream error (unplug, `EIO`, `POLLERR`) closes the device and reopens it with
//!   back-off (0.1 s doubling to 2 s) for up to [`V4l2Camera::set_reconnect_window`]
//!   (default 10 s), then reports a one-line error;
//! - GREY is copied, YUYV converted to gray while copying (the Y bytes), MJPG decoded
//!   (decoding allocates: the one per-frame allocation, MJPG only).

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use v4l::buffer::Type as BufType;
use v4l::capability::Flags as CapFlags;
use v4l::control::{Control, Value};
use v4l::memory::Memory;
use v4l::v4l_sys::{v4l2_buffer, v4l2_requestbuffers};
use v4l::v4l2::vidioc;
use v4l::video::Capture;
use v4l::{Device, FourCC};

use super::{Frame, Grab, Pacing, Source, SourceOptions};
use crate::{Error, Result};

/// Pixel formats frameline takes from a camera, in order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    Grey,
    Yuyv,
    Mjpeg,
}

impl PixelFormat {
    pub const ALL: [PixelFormat; 3] = [PixelFormat::Grey, PixelFormat::Yuyv, PixelFormat::Mjpeg];

    pub fn fourcc(self) -> [u8; 4] {
        match self {
            PixelFormat::Grey => *b"GREY",
            PixelFormat::Yuyv => *b"YUYV",
            PixelFormat::Mjpeg => *b"MJPG",
        }
    }

    pub fn from_fourcc(f: &[u8; 4]) -> Option<Self> {
        Self::ALL.into_iter().find(|p| &p.fourcc() == f)
    }

    /// Bytes per pixel of an uncompressed format.
    fn bytes_per_pixel(self) -> Option<usize> {
        match self {
            PixelFormat::Grey => Some(1),
            PixelFormat::Yuyv => Some(2),
            PixelFormat::Mjpeg => None,
        }
    }
}

fn fourcc_str(f: &[u8; 4]) -> String {
    f.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

/// Turns an OS error of `what` on the device into a one-line message a user can act on.
pub fn describe_os_error(what: &str, e: &io::Error) -> String {
    let hint = match e.raw_os_error() {
        Some(libc::ENOENT) => "no such device (is the camera plugged in?)",
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "permission denied (add the user to the 'video' group)"
        }
        Some(libc::EBUSY) => "device busy (another program is using the camera)",
        Some(libc::ENODEV) | Some(libc::ENXIO) => "the device is gone (unplugged?)",
        Some(libc::ENOTTY) | Some(libc::EINVAL) => "not a V4L2 capture device or request refused",
        Some(libc::EIO) | Some(libc::EPIPE) => "stream error from the driver",
        _ => "",
    };
    if hint.is_empty() {
        format!("{what}: {e}")
    } else {
        format!("{what}: {hint} ({e})")
    }
}

/// One mmap'ed driver buffer.
struct Mapped {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by the `Streaming` that holds it;
// it is only touched by the thread that owns the camera.
unsafe impl Send for Mapped {}

/// An open, streaming device and its mapped buffers.
struct Streaming {
    device: Device,
    buffers: Vec<Mapped>,
    on: bool,
}

impl Streaming {
    fn fd(&self) -> i32 {
        self.device.handle().fd()
    }

    fn buffer_desc(index: u32) -> v4l2_buffer {
        // SAFETY: v4l2_buffer is a plain C struct for which all-zero bytes are valid.
        let mut b: v4l2_buffer = unsafe { std::mem::zeroed() };
        b.type_ = BufType::VideoCapture as u32;
        b.memory = Memory::Mmap as u32;
        b.index = index;
        b
    }

    /// Requests, maps and queues `count` buffers, then starts streaming.
    fn start(device: Device, count: u32) -> io::Result<Self> {
        let mut s = Streaming {
            device,
            buffers: Vec::new(),
            on: false,
        };
        // SAFETY: v4l2_requestbuffers is a plain C struct; all-zero is valid.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.count = count;
        req.type_ = BufType::VideoCapture as u32;
        req.memory = Memory::Mmap as u32;
        // SAFETY: the fd is open; `req` is the argument type VIDIOC_REQBUFS expects and
        // lives across the call.
        unsafe {
            v4l::v4l2::ioctl(
                s.fd(),
                vidioc::VIDIOC_REQBUFS,
                (&mut req as *mut v4l2_requestbuffers).cast(),
            )
        }?;
        if req.count == 0 {
            return Err(io::Error::other("the driver granted no buffers"));
        }
        for index in 0..req.count {
            let mut b = Self::buffer_desc(index);
            // SAFETY: as above, with the v4l2_buffer VIDIOC_QUERYBUF expects.
            unsafe {
                v4l::v4l2::ioctl(
                    s.fd(),
                    vidioc::VIDIOC_QUERYBUF,
                    (&mut b as *mut v4l2_buffer).cast(),
                )
            }?;
            let len = b.length as usize;
            // SAFETY: for MMAP buffers the driver fills the `offset` member of the union.
            let offset = unsafe { b.m.offset } as libc::off_t;
            // SAFETY: maps `len` bytes of the device at the offset the driver gave for
            // this buffer; the result is checked by the wrapper and unmapped in Drop.
            let ptr = unsafe {
                v4l::v4l2::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    s.fd(),
                    offset,
                )
            }?;
            s.buffers.push(Mapped {
                ptr: ptr.cast(),
                len,
            });
        }
        for index in 0..req.count {
            s.queue(index)?;
        }
        let mut typ = BufType::VideoCapture as i32;
        // SAFETY: VIDIOC_STREAMON takes a pointer to the buffer type as an int.
        unsafe {
            v4l::v4l2::ioctl(
                s.fd(),
                vidioc::VIDIOC_STREAMON,
                (&mut typ as *mut i32).cast(),
            )
        }?;
        s.on = true;
        Ok(s)
    }

    /// Gives buffer `index` back to the driver. Takes `&mut self`, so no slice from
    /// [`Self::bytes`] can outlive the hand-back.
    fn queue(&mut self, index: u32) -> io::Result<()> {
        let mut b = Self::buffer_desc(index);
        // SAFETY: VIDIOC_QBUF with a v4l2_buffer naming one of our MMAP buffers.
        unsafe {
            v4l::v4l2::ioctl(
                self.fd(),
                vidioc::VIDIOC_QBUF,
                (&mut b as *mut v4l2_buffer).cast(),
            )
        }
    }

    /// Waits up to `timeout` for a filled buffer. `Ok(None)` on timeout.
    fn dequeue(&self, timeout: Duration) -> io::Result<Option<v4l2_buffer>> {
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let mut fds = [libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: one valid pollfd, count 1.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(None);
        }
        if fds[0].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
            && fds[0].revents & libc::POLLIN == 0
        {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "poll reports an error on the stream",
            ));
        }
        let mut b = Self::buffer_desc(0);
        // SAFETY: VIDIOC_DQBUF fills `b` with the dequeued buffer's description.
        match unsafe {
            v4l::v4l2::ioctl(
                self.fd(),
                vidioc::VIDIOC_DQBUF,
                (&mut b as *mut v4l2_buffer).cast(),
            )
        } {
            Ok(()) => Ok(Some(b)),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bytes of buffer `index` that the driver filled.
    fn bytes(&self, index: u32, used: usize) -> Option<&[u8]> {
        let m = self.buffers.get(index as usize)?;
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives; the
        // driver does not write this buffer while it is dequeued (it is ours until we
        // queue it again, which needs `&mut self` and so ends this borrow first).
        Some(unsafe { std::slice::from_raw_parts(m.ptr, used.min(m.len)) })
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        // Errors are ignored: on an unplugged device every call fails with ENODEV,
        // and nothing more can be done about a buffer we are giving up anyway.
        if self.on {
            let mut typ = BufType::VideoCapture as i32;
            // SAFETY: as in `start`.
            let _ = unsafe {
                v4l::v4l2::ioctl(
                    self.fd(),
                    vidioc::VIDIOC_STREAMOFF,
                    (&mut typ as *mut i32).cast(),
                )
            };
        }
        for m in self.buffers.drain(..) {
            // SAFETY: unmaps exactly what `start` mapped, once.
            let _ = unsafe { v4l::v4l2::munmap(m.ptr.cast(), m.len) };
        }
        // SAFETY: v4l2_requestbuffers is plain data; count 0 frees the driver's buffers.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.type_ = BufType::VideoCapture as u32;
        req.memory = Memory::Mmap as u32;
        // SAFETY: as in `start`.
        let _ = unsafe {
            v4l::v4l2::ioctl(
                self.fd(),
                vidioc::VIDIOC_REQBUFS,
                (&mut req as *mut v4l2_requestbuffers).cast(),
            )
        };
    }
}

/// What was negotiated with the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub width: usize,
    pub height: usize,
    pub format: PixelFormat,
    /// Bytes per line (uncompressed formats).
    pub stride: usize,
    /// Largest frame in bytes.
    pub size: usize,
}

/// A V4L2 capture device (see the module docs).
pub struct V4l2Camera {
    path: PathBuf,
    opts: SourceOptions,
    negotiated: Negotiated,
    driver: String,
    fps: Option<f64>,
    stream: Option<Streaming>,
    /// Last driver sequence number seen on the current stream.
    last_sequence: Option<u32>,
    /// Our frame sequence: advances with the driver's (gaps included), keeps rising
    /// across wrap-arounds and reopens. Starts at u64::MAX so the first frame is 0.
    sequence_ours: u64,
    dropped: u64,
    recoveries: u64,
    /// When the stream broke, and when to try again.
    broken_since: Option<Instant>,
    retry_at: Instant,
    backoff: Duration,
    reconnect_window: Duration,
}

impl V4l2Camera {
    /// Opens `path`, negotiates the format and rate from `opts`, and starts streaming.
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<Self> {
        let (stream, negotiated, driver, fps) = open_stream(path, opts, None)?;
        Ok(V4l2Camera {
            path: path.to_path_buf(),
            opts: opts.clone(),
            negotiated,
            driver,
            fps,
            stream: Some(stream),
            last_sequence: None,
            sequence_ours: u64::MAX,
            dropped: 0,
            recoveries: 0,
            broken_since: None,
            retry_at: Instant::now(),
            backoff: Duration::from_millis(100),
            reconnect_window: Duration::from_secs(10),
        })
    }

    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// How long to keep reopening a camera whose stream broke before giving up.
    pub fn set_reconnect_window(&mut self, window: Duration) {
        self.reconnect_window = window;
    }

    /// Sets the control whose name matches `name` (case-insensitive), e.g. a vivid
    /// test control or "Exposure Time, Absolute"; buttons ignore `value`.
    pub fn set_control(&self, name: &str, value: i64) -> Result<()> {
        let err = |reason: String| Error::Capture {
            source_name: self.path.display().to_string(),
            reason,
        };
        let stream = self
            .stream
            .as_ref()
            .ok_or_else(|| err("the device is closed (reconnecting)".into()))?;
        let controls = stream
            .device
            .query_controls()
            .map_err(|e| err(describe_os_error("listing controls", &e)))?;
        let c = controls
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| err(format!("no control named '{name}'")))?;
        let value = if c.typ == v4l::control::Type::Button {
            Value::None
        } else if c.typ == v4l::control::Type::Boolean {
            Value::Boolean(value != 0)
        } else {
            Value::Integer(value)
        };
        stream
            .device
            .set_control(Control { id: c.id, value })
            .map_err(|e| err(describe_os_error(&format!("setting '{name}'"), &e)))
    }

    fn fail(&self, reason: String) -> Error {
        Error::Capture {
            source_name: format!("v4l:{}", self.path.display()),
            reason,
        }
    }

    /// Drops the stream after an error and schedules a reopen.
    fn break_stream(&mut self, what: &str, e: &io::Error) {
        log::warn!(
            "v4l:{}: {}; reopening",
            self.path.display(),
            describe_os_error(what, e)
        );
        self.stream = None;
        self.broken_since.get_or_insert_with(Instant::now);
        self.retry_at = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(Duration::from_secs(2));
    }

    /// Tries to reopen a broken stream (with back-off); errors once the reconnect
    /// window has passed.
    fn reopen(&mut self, timeout: Duration) -> Result<bool> {
        let now = Instant::now();
        if now < self.retry_at {
            std::thread::sleep((self.retry_at - now).min(timeout));
            return Ok(false);
        }
        match open_stream(&self.path, &self.opts, Some(self.negotiated)) {
            Ok((stream, negotiated, _, _)) => {
                // `broken_since` stays set until a frame arrives: a camera that opens
                // but fails at once still runs out of reconnect time.
                self.stream = Some(stream);
                self.negotiated = negotiated;
                self.last_sequence = None;
                self.recoveries += 1;
                log::info!("v4l:{}: stream reopened", self.path.display());
                Ok(true)
            }
            Err(e) => {
                let since = self.broken_since.map_or(Duration::ZERO, |t| t.elapsed());
                if since >= self.reconnect_window {
                    return Err(self.fail(format!(
                        "gave up reconnecting after {:.1} s: {e}",
                        since.as_secs_f64()
                    )));
                }
                log::debug!("reopen failed: {e}");
                self.retry_at = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(Duration::from_secs(2));
                Ok(false)
            }
        }
    }
}

/// Opens and configures the device; with `must_match`, the negotiated format must be
/// that one (a reopen must not change the frame size under the pipeline).
fn open_stream(
    path: &Path,
    opts: &SourceOptions,
    must_match: Option<Negotiated>,
) -> Result<Opened> {
    // The `v4l` crate unwraps on some driver strings (non-UTF-8 card names) and
    // unknown enum values; a camera must not be able to crash the program that way.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open_stream_inner(path, opts, must_match)
    }))
    .unwrap_or_else(|_| {
        Err(Error::Capture {
            source_name: format!("v4l:{}", path.display()),
            reason: "the v4l crate panicked on what the driver reported".into(),
        })
    })
}

/// A configured, streaming device: stream, format, driver description, frame rate.
type Opened = (Streaming, Negotiated, String, Option<f64>);

fn open_stream_inner(
    path: &Path,
    opts: &SourceOptions,
    must_match: Option<Negotiated>,
) -> Result<Opened> {
    let name = format!("v4l:{}", path.display());
    let fail = |reason: String| Error::Capture {
        source_name: name.clone(),
        reason,
    };
    let device = Device::with_path(path).map_err(|e| fail(describe_os_error("open", &e)))?;
    let caps = device
        .query_caps()
        .map_err(|e| fail(describe_os_error("query capabilities", &e)))?;
    if !caps.capabilities.contains(CapFlags::VIDEO_CAPTURE) {
        return Err(fail(format!(
            "'{}' ({}) is not a single-plane video capture device",
            caps.card, caps.driver
        )));
    }
    if !caps.capabilities.contains(CapFlags::STREAMING) {
        return Err(fail(format!(
            "'{}' does not support streaming I/O",
            caps.card
        )));
    }
    let offered: Vec<[u8; 4]> = device
        .enum_formats()
        .map_err(|e| fail(describe_os_error("list formats", &e)))?
        .into_iter()
        .map(|d| d.fourcc.repr)
        .collect();
    let offered_list = || {
        offered
            .iter()
            .map(fourcc_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let format = match &opts.fourcc {
        Some(want) => {
            let want4: [u8; 4] = want
                .as_bytes()
                .try_into()
                .map_err(|_| fail(format!("pixel format '{want}' is not a fourcc")))?;
            let f = PixelFormat::from_fourcc(&want4).ok_or_else(|| {
                fail(format!(
                    "pixel format '{want}' is not supported by frameline (GREY, YUYV, MJPG)"
                ))
            })?;
            if !offered.contains(&want4) {
                return Err(fail(format!(
                    "the camera does not offer '{want}' (it offers {})",
                    offered_list()
                )));
            }
            f
        }
        None => PixelFormat::ALL
            .into_iter()
            .find(|p| offered.contains(&p.fourcc()))
            .ok_or_else(|| {
                fail(format!(
                    "the camera offers none of GREY, YUYV, MJPG (it offers {})",
                    offered_list()
                ))
            })?,
    };
    let (want_w, want_h) = match must_match {
        Some(n) => (n.width, n.height),
        None => (opts.width, opts.height),
    };
    let mut fmt = device
        .format()
        .map_err(|e| fail(describe_os_error("get format", &e)))?;
    fmt.width = u32::try_from(want_w).unwrap_or(u32::MAX);
    fmt.height = u32::try_from(want_h).unwrap_or(u32::MAX);
    fmt.fourcc = FourCC::new(&format.fourcc());
    fmt.field_order = v4l::format::FieldOrder::Progressive;
    // The driver would keep the old format's stride and size otherwise.
    fmt.stride = 0;
    fmt.size = 0;
    let got = device
        .set_format(&fmt)
        .map_err(|e| fail(describe_os_error("set format", &e)))?;
    if got.fourcc.repr != format.fourcc() {
        return Err(fail(format!(
            "asked for {}, the driver set {}",
            fourcc_str(&format.fourcc()),
            fourcc_str(&got.fourcc.repr)
        )));
    }
    if !matches!(
        got.field_order,
        v4l::format::FieldOrder::Progressive | v4l::format::FieldOrder::Any
    ) {
        log::warn!(
            "{name}: the camera delivers {:?} fields, not progressive frames",
            got.field_order
        );
    }
    let (w, h) = (got.width as usize, got.height as usize);
    if w == 0 || h == 0 {
        return Err(fail(format!("the driver set a {w}x{h} frame")));
    }
    if (w, h) != (want_w, want_h) {
        if must_match.is_some() {
            return Err(fail(format!(
                "after reopening the frame is {w}x{h}, was {want_w}x{want_h}"
            )));
        }
        log::warn!("{name}: asked for {want_w}x{want_h}, the camera gives {w}x{h}");
    }
    let (stride, size) = (got.stride as usize, got.size as usize);
    if let Some(bpp) = format.bytes_per_pixel()
        && (stride < w * bpp || size < stride * (h - 1) + w * bpp)
    {
        return Err(fail(format!(
            "inconsistent format from the driver: {w}x{h} {} with {stride} bytes per line and {size} bytes",
            fourcc_str(&format.fourcc())
        )));
    }
    let fps = opts.fps.unwrap_or(30.0);
    let fps = match device.set_params(&v4l::video::capture::Parameters::with_fps(
        fps.round().max(1.0) as u32,
    )) {
        Ok(p) if p.interval.numerator > 0 => {
            Some(f64::from(p.interval.denominator) / f64::from(p.interval.numerator))
        }
        Ok(_) => None,
        Err(e) => {
            log::warn!("{name}: {}", describe_os_error("set frame rate", &e));
            None
        }
    };
    let stream = Streaming::start(device, opts.buffers.clamp(2, 32))
        .map_err(|e| fail(describe_os_error("start streaming", &e)))?;
    let negotiated = Negotiated {
        width: w,
        height: h,
        format,
        stride,
        size,
    };
    let driver = format!("{} '{}' ({})", caps.driver, caps.card, caps.bus);
    Ok((stream, negotiated, driver, fps))
}

/// Current `CLOCK_MONOTONIC` time (the clock of V4L2 timestamps).
fn monotonic_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `V4L2_BUF_FLAG_ERROR`: the frame data may be corrupt.
const BUF_FLAG_ERROR: u32 = 0x0040;
/// `V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC`.
const BUF_FLAG_TIMESTAMP_MONOTONIC: u32 = 0x2000;
const BUF_FLAG_TIMESTAMP_MASK: u32 = 0xe000;

impl Source for V4l2Camera {
    fn describe(&self) -> String {
        let n = &self.negotiated;
        let rate = self
            .fps
            .map_or("driver's rate".into(), |f| format!("{f:.2} fps"));
        format!(
            "v4l:{} {} {}x{} {} ({} bytes/line), {rate}",
            self.path.display(),
            self.driver,
            n.width,
            n.height,
            fourcc_str(&n.format.fourcc()),
            n.stride
        )
    }

    fn size(&self) -> (usize, usize) {
        (self.negotiated.width, self.negotiated.height)
    }

    fn pacing(&self) -> Pacing {
        Pacing::Live
    }

    fn next_frame(&mut self, frame: &mut Frame, timeout: Duration) -> Result<Grab> {
        if self.stream.is_none() && !self.reopen(timeout)? {
            return Ok(Grab::Timeout);
        }
        let stream = self.stream.as_mut().expect("stream open");
        let buf = match stream.dequeue(timeout) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Grab::Timeout),
            Err(e) => {
                self.break_stream("dequeue", &e);
                return Ok(Grab::Timeout);
            }
        };
        let t0 = Instant::now();
        let n = self.negotiated;
        let used = buf.bytesused as usize;
        let bad = buf.flags & BUF_FLAG_ERROR != 0;
        let copied = match (bad, stream.bytes(buf.index, used)) {
            (true, _) => Err("the driver flagged the buffer as corrupt".to_string()),
            (false, None) => Err(format!("the driver returned unknown buffer {}", buf.index)),
            (false, Some(bytes)) => match n.format {
                PixelFormat::Grey => {
                    super::copy_gray(bytes, n.stride, &mut frame.image).map_err(|e| e.to_string())
                }
                PixelFormat::Yuyv => super::copy_yuyv_luma(bytes, n.stride, &mut frame.image)
                    .map_err(|e| e.to_string()),
                PixelFormat::Mjpeg => decode_mjpeg(bytes, &mut frame.image),
            },
        };
        // Give the buffer back before anything else: the driver must not run short.
        if let Err(e) = stream.queue(buf.index) {
            self.break_stream("re-queue", &e);
        }
        // Both clocks after the copy: latency includes conversion and decoding.
        let arrived_mono = monotonic_now();
        let arrived = Instant::now();
        let seq = buf.sequence;
        // Sequence numbers are u32 and wrap; a step back or a huge jump is a driver
        // reset (counted as neither a gap nor a frame).
        let step = self.last_sequence.map_or(1, |last| seq.wrapping_sub(last));
        if (1..1 << 31).contains(&step) {
            self.dropped += u64::from(step - 1);
            self.sequence_ours = self.sequence_ours.wrapping_add(u64::from(step));
        } else {
            log::warn!(
                "v4l:{}: driver sequence jumped to {seq}",
                self.path.display()
            );
            self.sequence_ours = self.sequence_ours.wrapping_add(1);
        }
        self.last_sequence = Some(seq);
        if let Err(reason) = copied {
            log::warn!("v4l:{}: frame {seq} skipped: {reason}", self.path.display());
            self.dropped += 1;
            return Ok(Grab::Timeout);
        }
        let timestamp = Duration::new(
            buf.timestamp.tv_sec.max(0) as u64,
            (buf.timestamp.tv_usec.clamp(0, 999_999) * 1000) as u32,
        );
        let monotonic = buf.flags & BUF_FLAG_TIMESTAMP_MASK == BUF_FLAG_TIMESTAMP_MONOTONIC;
        // A good frame: the stream is healthy again, the reconnect clock restarts.
        self.broken_since = None;
        self.backoff = Duration::from_millis(100);
        frame.meta.sequence = self.sequence_ours;
        frame.meta.timestamp = timestamp;
        frame.meta.arrived = arrived;
        frame.meta.age_at_arrival = if monotonic {
            arrived_mono.saturating_sub(timestamp)
        } else {
            Duration::ZERO
        };
        frame.meta.copy_time = arrived - t0;
        Ok(Grab::Frame)
    }

    fn dropped(&self) -> u64 {
        self.dropped
    }

    fn recoveries(&self) -> u64 {
        self.recoveries
    }
}

/// Decodes one MJPEG frame to gray into `dst` (which must have the frame's size).
fn decode_mjpeg(bytes: &[u8], dst: &mut crate::Image<u8>) -> std::result::Result<(), String> {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .map_err(|e| format!("MJPEG frame does not decode: {e}"))?
        .into_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    if (w, h) != dst.size() {
        return Err(format!(
            "MJPEG frame is {w}x{h}, expected {}x{}",
            dst.width(),
            dst.height()
        ));
    }
    super::copy_gray(img.as_raw(), w, dst).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_advice() {
        let e = describe_os_error("open", &io::Error::from_raw_os_error(libc::EACCES));
        assert!(e.contains("permission denied"), "{e}");
        let e = describe_os_error("open", &io::Error::from_raw_os_error(libc::EBUSY));
        assert!(e.contains("busy"), "{e}");
        let e = describe_os_error("open", &io::Error::from_raw_os_error(libc::ENOENT));
        assert!(e.contains("no such device"), "{e}");
    }

    #[test]
    fn missing_device_is_an_error_not_a_panic() {
        let e = V4l2Camera::open(
            Path::new("/dev/frameline-no-such-video"),
            &SourceOptions::default(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("no such device"), "{e}");
        let e = V4l2Camera::open(Path::new("/dev/null"), &SourceOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/dev/null"), "{e}");
    }

    #[test]
    fn mjpeg_frames_decode_to_gray_and_wrong_sizes_are_refused() {
        let img = crate::testing::random_blobs(64, 48, 3, 5).unwrap();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode(
                img.as_view().as_slice(),
                64,
                48,
                image::ExtendedColorType::L8,
            )
            .unwrap();
        let mut dst = crate::Image::<u8>::new(64, 48).unwrap();
        decode_mjpeg(&jpeg, &mut dst).unwrap();
        let err: u64 = (0..48)
            .flat_map(|y| (0..64).map(move |x| (x, y)))
            .map(|(x, y)| u64::from(img.row(y)[x].abs_diff(dst.row(y)[x])))
            .sum();
        assert!(
            err as f64 / (64.0 * 48.0) < 3.0,
            "mean error {}",
            err as f64 / 3072.0
        );
        let mut wrong = crate::Image::<u8>::new(32, 48).unwrap();
        assert!(
            decode_mjpeg(&jpeg, &mut wrong)
                .unwrap_err()
                .contains("64x48")
        );
        assert!(decode_mjpeg(&jpeg[..100], &mut dst).is_err(), "truncated");
        assert!(decode_mjpeg(b"not a jpeg", &mut dst).is_err());
    }

    #[test]
    fn fourccs() {
        assert_eq!(PixelFormat::from_fourcc(b"YUYV"), Some(PixelFormat::Yuyv));
        assert_eq!(PixelFormat::from_fourcc(b"RGB3"), None);
        assert_eq!(fourcc_str(b"GR\0Y"), "GR?Y");
    }
}
