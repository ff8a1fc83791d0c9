//! Connected components against a flood-fill reference on blob images of many sizes:
//! label images and statistics must be identical, with labels in raster order of each
//! component's first pixel; any thread count gives the same result.

mod common;

use common::*;
use frameline::kernels::components::{ComponentStats, Connectivity, Labeler};
use frameline::testing::random_blobs;
use frameline::{Error, Image, ImageView};

/// Flood fill in raster order: the reference labeling and statistics.
fn reference(src: &ImageView<'_, u8>, conn: Connectivity) -> (Image<u32>, Vec<ComponentStats>) {
    let (w, h) = src.size();
    let mut labels = Image::<u32>::new(w, h).unwrap();
    let mut stats = Vec::new();
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if src.get(x, y).unwrap() == 0 || labels.get(x, y).unwrap() != 0 {
                continue;
            }
            let label = stats.len() as u32 + 1;
            let (mut area, mut sx, mut sy) = (0u64, 0u64, 0u64);
            let (mut x0, mut y0, mut x1, mut y1) = (x, y, x, y);
            labels.row_mut(y)[x] = label;
            stack.push((x, y));
            while let Some((px, py)) = stack.pop() {
                area += 1;
                sx += px as u64;
                sy += py as u64;
                (x0, y0, x1, y1) = (x0.min(px), y0.min(py), x1.max(px), y1.max(py));
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let diagonal = dx != 0 && dy != 0;
                        if (dx == 0 && dy == 0) || (diagonal && conn == Connectivity::Four) {
                            continue;
                        }
                        let (nx, ny) = (px as i64 + dx, py as i64 + dy);
                        if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                            continue;
                        }
                        let (nx, ny) = (nx as usize, ny as usize);
                        if src.get(nx, ny).unwrap() != 0 && labels.get(nx, ny).unwrap() == 0 {
                            labels.row_mut(ny)[nx] = label;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            stats.push(ComponentStats {
                label,
                area,
                left: x0 as u32,
                top: y0 as u32,
                width: (x1 - x0 + 1) as u32,
                height: (y1 - y0 + 1) as u32,
                centroid_x: sx as f64 / area as f64,
                centroid_y: sy as f64 / area as f64,
            });
        }
    }
    (labels, stats)
}

fn check(src: &Image<u8>, conn: Connectivity, threads: usize, what: &str) {
    let (want_labels, want_stats) = reference(&src.as_view(), conn);
    let (w, h) = src.size();
    let mut labels = Image::<u32>::new(w, h).unwrap();
    let mut labeler = Labeler::new(conn);
    let stats = pool(threads)
        .install(|| {
            labeler
                .label(&src.as_view(), &mut labels.as_view_mut())
                .map(|s| s.to_vec())
        })
        .unwrap();
    assert_eq!(labels, want_labels, "{what}: label image");
    assert_eq!(stats.len(), want_stats.len(), "{what}: count");
    for (a, b) in stats.iter().zip(&want_stats) {
        assert_eq!(
            (a.label, a.area, a.left, a.top, a.width, a.height),
            (b.label, b.area, b.left, b.top, b.width, b.height),
            "{what}"
        );
        assert!(
            (a.centroid_x - b.centroid_x).abs() < 1e-9
                && (a.centroid_y - b.centroid_y).abs() < 1e-9,
            "{what}: centroid"
        );
    }
}

#[test]
fn blob_images_match_flood_fill() {
    for (w, h) in [
        (1, 1),
        (1, 40),
        (40, 1),
        (17, 13),
        (64, 64),
        (250, 97),
        (513, 300),
    ] {
        for blur in [1, 3, 7] {
            let src = random_blobs(w, h, blur, (w * h + blur) as u64).unwrap();
            for conn in [Connectivity::Four, Connectivity::Eight] {
                for threads in [1, 3] {
                    check(
                        &src,
                        conn,
                        threads,
                        &format!("{w}x{h} blur {blur} {conn:?} {threads} threads"),
                    );
                }
            }
        }
    }
}

#[test]
fn special_images() {
    let checker = Image::from_fn(31, 17, |x, y| if (x + y) % 2 == 0 { 255 } else { 0 }).unwrap();
    let empty = Image::<u8>::new(20, 10).unwrap();
    let full = Image::filled(20, 10, 1u8).unwrap();
    let stripes = Image::from_fn(50, 9, |x, _| if x % 3 == 0 { 7 } else { 0 }).unwrap();
    // A U shape: the two arms meet only at the bottom, after both got labels.
    let u = Image::from_fn(
        9,
        6,
        |x, y| if x == 1 || x == 7 || y == 5 { 255 } else { 0 },
    )
    .unwrap();
    for (img, name) in [
        (&checker, "checker"),
        (&empty, "empty"),
        (&full, "full"),
        (&stripes, "stripes"),
        (&u, "U"),
    ] {
        for conn in [Connectivity::Four, Connectivity::Eight] {
            check(img, conn, 1, name);
        }
    }
    let mut l = Labeler::new(Connectivity::Eight);
    let mut out = Image::<u32>::new(31, 17).unwrap();
    assert_eq!(
        l.label(&checker.as_view(), &mut out.as_view_mut())
            .unwrap()
            .len(),
        1
    );
    let mut l4 = Labeler::new(Connectivity::Four);
    assert_eq!(
        l4.label(&checker.as_view(), &mut out.as_view_mut())
            .unwrap()
            .len(),
        (31 * 17usize).div_ceil(2)
    );
    let mut small = Image::<u32>::new(31, 16).unwrap();
    assert!(matches!(
        l.label(&checker.as_view(), &mut small.as_view_mut()),
        Err(Error::SizeMismatch { .. })
    ));
    assert!(Connectivity::from_number(6).is_err());
}

#[test]
fn big_frames_in_parallel_strips_equal_one_thread() {
    let src = random_blobs(1920, 1080, 9, 77).unwrap();
    // Large enough for several strips: against the reference too.
    check(&src, Connectivity::Eight, 4, "1920x1080 in strips");
    check(&src, Connectivity::Four, 3, "1920x1080 in strips");
    for conn in [Connectivity::Four, Connectivity::Eight] {
        let run = |threads: usize| {
            let mut labels = Image::<u32>::new(1920, 1080).unwrap();
            let mut labeler = Labeler::new(conn);
            let stats = pool(threads)
                .install(|| {
                    labeler
                        .label(&src.as_view(), &mut labels.as_view_mut())
                        .map(|s| s.to_vec())
                })
                .unwrap();
            (labels, stats)
        };
        let one = run(1);
        assert!(!one.1.is_empty());
        for threads in [2, 4, 16] {
            assert!(run(threads) == one, "{conn:?} {threads} threads");
        }
    }
}

#[test]
fn label_images_beyond_the_cache_are_streamed_out_identically() {
    // 2049x2048 labels take 16 MiB, enough for streaming stores; the odd width puts
    // every row's end mid-line. Against the reference on one and three threads, and
    // into a view one column in, whose rows start off any alignment.
    let (w, h) = (2049, 2048);
    assert!(w * h * 4 >= frameline::kernels::STREAM_MIN_BYTES);
    let src = random_blobs(w, h, 9, 5).unwrap();
    check(&src, Connectivity::Eight, 1, "2049x2048 streamed");
    check(&src, Connectivity::Four, 3, "2049x2048 streamed, strips");
    let (want, _) = reference(&src.as_view(), Connectivity::Eight);
    let mut wide = Image::<u32>::new(w + 1, h).unwrap();
    let mut whole = wide.as_view_mut();
    let mut labels = whole.sub_view_mut(1, 0, w, h).unwrap();
    pool(2)
        .install(|| {
            Labeler::new(Connectivity::Eight)
                .label(&src.as_view(), &mut labels)
                .map(|_| ())
        })
        .unwrap();
    assert!(labels.as_view().to_image() == want, "view one column in");
}

#[test]
fn strips_meet_at_empty_rows_and_under_one_long_component() {
    // Horizontal stripes of 1-5 rows with gaps of 1-4 (strip borders fall in stripes
    // and in gaps), one vertical line through the whole height joining them, and rows
    // full to the edge at widths around 64-bit mask words.
    for w in [64, 65, 128, 517] {
        // Tall enough (2^18 pixels) to be labeled in strips on several threads.
        let h = (1 << 18) / w + 9;
        let src = Image::<u8>::from_fn(w, h, |x, y| {
            let stripe = (y % 9) < 1 + y % 5;
            let line = x == w / 2 && y >= 3;
            u8::from(stripe || line) * 255
        })
        .unwrap();
        for threads in [1, 3, 16] {
            check(
                &src,
                Connectivity::Eight,
                threads,
                &format!("stripes {w} wide, {threads} threads"),
            );
            check(
                &src,
                Connectivity::Four,
                threads,
                &format!("stripes {w} wide, {threads} threads, 4"),
            );
        }
    }
}
