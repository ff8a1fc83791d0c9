//! The V4L2 source against a real kernel driver: the Linux kernel's virtual camera
//! `vivid`, in a throw-away VM (scripts/vm-capture-test.sh runs this binary there with
//! `--ignored --test-threads=1`). Outside such a VM every test prints why it skips.
//!
#![cfg(all(target_os = "linux", feature = "v4l2"))]

use std::path::Path;
use std::time::{Duration, Instant};

use frameline::capture::v4l2::{PixelFormat, V4l2Camera};
use frameline::capture::{Frame, Grab, Source, SourceOptions};

const DEVICE: &str = "/dev/video0";

/// The vivid device, or `None` (with the reason printed) when this is not the VM.
fn vivid() -> Option<&'static Path> {
    if std::env::var_os("FRAMELINE_VM").is_none() {
        eprintln!("skipped: not in the vivid VM (scripts/vm-capture-test.sh sets FRAMELINE_VM)");
        return None;
    }
    if !Path::new(DEVICE).exists() {
        eprintln!("skipped: {DEVICE} does not exist");
        return None;
    }
    Some(Path::new(DEVICE))
}

fn options(fourcc: &str) -> SourceOptions {
    SourceOptions {
        width: 640,
        height: 480,
        fps: Some(25.0),
        fourcc: Some(fourcc.into()),
        buffers: 4,
        ..SourceOptions::default()
    }
}

/// Captures `n` frames (each within 2 s), returning the last and the sequence numbers.
fn capture(cam: &mut V4l2Camera, n: usize) -> (Frame, Vec<u64>) {
    let (w, h) = cam.size();
    let mut frame = Frame::new(w, h).unwrap();
    let mut seqs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2 * n as u64 + 5);
    while seqs.len() < n {
        assert!(Instant::now() < deadline, "frames stopped coming");
        match cam.next_frame(&mut frame, Duration::from_secs(2)).unwrap() {
            Grab::Frame => seqs.push(frame.meta.sequence),
            Grab::Timeout => eprintln!("timeout"),
            Grab::End => panic!("a camera does not end"),
        }
    }
    (frame, seqs)
}

fn quiet_test_pattern(cam: &V4l2Camera) {
    // No on-screen text: every frame of the colour bars is identical.
    cam.set_control("OSD Text Mode", 2).unwrap();
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn a_grey_streams_with_the_negotiated_format() {
    let Some(dev) = vivid() else { return };
    let mut cam = V4l2Camera::open(dev, &options("GREY")).unwrap();
    eprintln!("{}", cam.describe());
    let n = cam.negotiated();
    assert_eq!(
        (n.width, n.height, n.format, n.stride),
        (640, 480, PixelFormat::Grey, 640)
    );
    quiet_test_pattern(&cam);
    let t0 = Instant::now();
    let (frame, seqs) = capture(&mut cam, 30);
    let fps = 29.0 / t0.elapsed().as_secs_f64();
    eprintln!("30 GREY frames, {fps:.1} fps, sequences {seqs:?}");
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "sequence rises");
    assert_eq!(cam.dropped(), seqs[29] - seqs[0] - 29, "gaps are counted");
    let distinct: std::collections::BTreeSet<u8> = frame.image.row(240).iter().copied().collect();
    assert!(distinct.len() >= 4, "colour bars: {distinct:?}");
    assert!(frame.meta.timestamp > Duration::ZERO);
    assert!(frame.meta.age_at_arrival < Duration::from_secs(1));
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn b_yuyv_is_converted_to_its_luma() {
    let Some(dev) = vivid() else { return };
    let mut grey = V4l2Camera::open(dev, &options("GREY")).unwrap();
    quiet_test_pattern(&grey);
    let (g, _) = capture(&mut grey, 3);
    drop(grey);
    let mut yuyv = V4l2Camera::open(dev, &options("YUYV")).unwrap();
    let n = yuyv.negotiated();
    assert_eq!((n.format, n.stride), (PixelFormat::Yuyv, 1280));
    quiet_test_pattern(&yuyv);
    let (y, _) = capture(&mut yuyv, 3);
    // vivid renders GREY and YUYV's luma with different colour conversions, so the
    // two images agree in structure, not value: the bars line up (correlation).
    let (a, b): (Vec<f64>, Vec<f64>) = (0..480)
        .flat_map(|r| (0..640).map(move |x| (r, x)))
        .map(|(r, x)| (f64::from(g.image.row(r)[x]), f64::from(y.image.row(r)[x])))
        .unzip();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let cov: f64 = a.iter().zip(&b).map(|(p, q)| (p - ma) * (q - mb)).sum();
    let var = |v: &[f64], m: f64| v.iter().map(|p| (p - m).powi(2)).sum::<f64>();
    let corr = cov / (var(&a, ma) * var(&b, mb)).sqrt();
    eprintln!("YUYV luma vs GREY: correlation {corr:.4}, means {ma:.1} / {mb:.1}");
    assert!(corr > 0.95, "YUYV's Y bytes are the gray image");
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn c_refuses_formats_it_cannot_take() {
    let Some(dev) = vivid() else { return };
    let e = V4l2Camera::open(dev, &options("RGB3"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not supported by frameline"), "{e}");
    let e = V4l2Camera::open(dev, &options("MJPG"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("does not offer 'MJPG'"), "{e}");
    let e = V4l2Camera::open(Path::new("/dev/video1"), &options("GREY"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not a single-plane video capture device"), "{e}");
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn d_a_busy_device_is_a_clear_error() {
    let Some(dev) = vivid() else { return };
    let mut first = V4l2Camera::open(dev, &options("GREY")).unwrap();
    capture(&mut first, 2);
    let e = V4l2Camera::open(dev, &options("GREY"))
        .err()
        .unwrap()
        .to_string();
    eprintln!("second open: {e}");
    assert!(e.contains("busy"), "{e}");
    capture(&mut first, 2);
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn e_dropped_buffers_show_as_sequence_gaps() {
    let Some(dev) = vivid() else { return };
    let mut cam = V4l2Camera::open(dev, &options("GREY")).unwrap();
    cam.set_control("Percentage of Dropped Buffers", 30)
        .unwrap();
    let (_, seqs) = capture(&mut cam, 20);
    cam.set_control("Percentage of Dropped Buffers", 0).unwrap();
    eprintln!(
        "sequences with 30 % dropped: {seqs:?}, counted {}",
        cam.dropped()
    );
    assert!(cam.dropped() > 0);
    assert_eq!(cam.dropped(), seqs[19] - seqs[0] - 19);
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn f_recovers_from_a_fatal_streaming_error() {
    let Some(dev) = vivid() else { return };
    let mut cam = V4l2Camera::open(dev, &options("GREY")).unwrap();
    let (_, before) = capture(&mut cam, 5);
    cam.set_control("Inject Fatal Streaming Error", 0).unwrap();
    let (_, after) = capture(&mut cam, 10);
    eprintln!(
        "before {before:?}, after {after:?}, recoveries {}",
        cam.recoveries()
    );
    assert!(cam.recoveries() >= 1, "the stream was reopened");
    assert!(
        after[0] > before[4],
        "our sequence keeps rising across the reopen"
    );
}

/// A symlink to the camera that a test can remove and put back: the device node
/// vanishing and coming back, as when a USB camera is unplugged and plugged in again.
fn camera_link(name: &str) -> std::path::PathBuf {
    let link = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(DEVICE, &link).unwrap();
    link
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn g_unplug_and_replug_recovers() {
    let Some(_) = vivid() else { return };
    let link = camera_link("replug-video");
    let mut cam = V4l2Camera::open(&link, &options("GREY")).unwrap();
    let (_, before) = capture(&mut cam, 3);
    // Unplugged: the node is gone and the stream dies.
    std::fs::remove_file(&link).unwrap();
    cam.set_control("Inject Fatal Streaming Error", 0).unwrap();
    let mut frame = Frame::new(640, 480).unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(1) {
        let g = cam
            .next_frame(&mut frame, Duration::from_millis(200))
            .unwrap();
        assert_ne!(g, Grab::End);
    }
    // Plugged in again within the reconnect window: frames come back.
    std::os::unix::fs::symlink(DEVICE, &link).unwrap();
    let (_, after) = capture(&mut cam, 5);
    eprintln!(
        "before {before:?}, after {after:?}, recoveries {}",
        cam.recoveries()
    );
    assert_eq!(cam.recoveries(), 1);
    assert!(after[0] > before[2]);
}

#[test]
#[ignore = "needs the vivid VM: scripts/vm-capture-test.sh"]
fn h_a_vanished_camera_ends_with_an_error_not_a_hang() {
    let Some(_) = vivid() else { return };
    let link = camera_link("vanish-video");
    let mut cam = V4l2Camera::open(&link, &options("GREY")).unwrap();
    cam.set_reconnect_window(Duration::from_secs(2));
    capture(&mut cam, 3);
    std::fs::remove_file(&link).unwrap();
    cam.set_control("Inject Fatal Streaming Error", 0).unwrap();
    let mut frame = Frame::new(640, 480).unwrap();
    let t0 = Instant::now();
    let err = loop {
        assert!(t0.elapsed() < Duration::from_secs(20), "no hang");
        if let Err(e) = cam.next_frame(&mut frame, Duration::from_millis(500)) {
            break e.to_string();
        }
    };
    eprintln!("after {:.1} s: {err}", t0.elapsed().as_secs_f64());
    assert!(err.contains("gave up reconnecting"), "{err}");
    assert!(err.contains("no such device"), "{err}");
}
