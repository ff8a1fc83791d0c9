//! Fixed thresholds against a per-pixel reference on every SIMD level; histograms
//! against a plain count; Otsu and triangle levels against the levels OpenCV's
//! `cv2.threshold` picked for the same histograms (tests/data/threshold_levels.json,
//! written by OpenCV 5.0.0).

mod common;

use common::*;
use frameline::kernels::threshold::{
    Histogram, HistogramCounter, ThresholdKind, histogram, otsu_level, otsu_threshold,
    threshold_f32_at, threshold_u8_at, triangle_level,
};
use frameline::testing::{random_image, random_u8};
use frameline::{DType, Error, Image};

const KINDS: [ThresholdKind; 5] = [
    ThresholdKind::Binary,
    ThresholdKind::BinaryInv,
    ThresholdKind::Trunc,
    ThresholdKind::ToZero,
    ThresholdKind::ToZeroInv,
];

fn reference<T: PartialOrd + Copy + Default>(v: T, t: T, max: T, kind: ThresholdKind) -> T {
    let above = v > t;
    match kind {
        ThresholdKind::Binary => {
            if above {
                max
            } else {
                T::default()
            }
        }
        ThresholdKind::BinaryInv => {
            if above {
                T::default()
            } else {
                max
            }
        }
        ThresholdKind::Trunc => {
            if above {
                t
            } else {
                v
            }
        }
        ThresholdKind::ToZero => {
            if above {
                v
            } else {
                T::default()
            }
        }
        ThresholdKind::ToZeroInv => {
            if above {
                T::default()
            } else {
                v
            }
        }
    }
}

#[test]
fn fixed_thresholds_on_every_level_and_shape() {
    for &w in &awkward_widths() {
        for h in [1, 3] {
            let src = random_u8(w, h, w as u64).unwrap();
            let srcf = random_image(DType::F32, w, h, w as u64).unwrap();
            let srcf = srcf.as_view().typed::<f32>().unwrap();
            for kind in KINDS {
                for level in levels() {
                    let mut out = Image::<u8>::new(w, h).unwrap();
                    threshold_u8_at(
                        level,
                        &src.as_view(),
                        &mut out.as_view_mut(),
                        100,
                        200,
                        kind,
                    )
                    .unwrap();
                    for y in 0..h {
                        for x in 0..w {
                            let want = reference(src.get(x, y).unwrap(), 100, 200, kind);
                            assert_eq!(out.get(x, y).unwrap(), want, "{level} {kind:?} {w}x{h}");
                        }
                    }
                    let mut out = Image::<f32>::new(w, h).unwrap();
                    threshold_f32_at(level, &srcf, &mut out.as_view_mut(), 99.5, 1.0, kind)
                        .unwrap();
                    for y in 0..h {
                        for x in 0..w {
                            let want = reference(srcf.get(x, y).unwrap(), 99.5, 1.0, kind);
                            assert_eq!(out.get(x, y).unwrap(), want, "{level} f32 {kind:?}");
                        }
                    }
                }
            }
        }
    }
    let src = Image::<u8>::new(4, 4).unwrap();
    let mut small = Image::<u8>::new(4, 3).unwrap();
    let r = threshold_u8_at(
        frameline::SimdLevel::Scalar,
        &src.as_view(),
        &mut small.as_view_mut(),
        1,
        1,
        KINDS[0],
    );
    assert!(matches!(r, Err(Error::SizeMismatch { .. })));
    assert!(ThresholdKind::parse("otsu").is_err());
}

#[test]
fn histograms_count_every_pixel_whatever_the_threads() {
    let (big, x, y) = embedded_u8(1001, 777, 2);
    let src = big.as_view().sub_view(x, y, 1001, 777).unwrap();
    let want = plain_count(&src);
    for threads in [1, 2, 3, 7] {
        assert_eq!(
            pool(threads).install(|| histogram(&src)),
            want,
            "{threads} threads"
        );
    }
}

/// Counts `src` one pixel at a time.
fn plain_count(src: &frameline::ImageView<'_, u8>) -> Histogram {
    let mut want: Histogram = [0; 256];
    for &v in src.rows().flatten() {
        want[usize::from(v)] += 1;
    }
    want
}

/// What a test image holds.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    /// Random pixels: neighbours far apart (8-bit counters).
    Random,
    /// One value: every update hits one entry (32-bit counters).
    Flat,
    /// 0, 255, 0, 255, …: neighbours far apart and every pair the same, so its 8-bit
    /// counter wraps over and over into the 32-bit one.
    Stripes,
    /// A smooth ramp: neighbours alike (32-bit counters).
    Ramp,
    /// Random above, flat below: bands of both counter widths in one image.
    RandomThenFlat,
}

#[test]
fn pair_tables_count_exactly_and_are_clean_for_the_next_image() {
    use Pattern::*;
    // Sizes around the pair tables' threshold (2^18 pixels per band): odd widths (a pixel
    // left over per row), widths below one 8-pixel load, one column, and last bands
    // that fall below the threshold and are counted pixel by pixel; both counter widths,
    // on one thread and on several.
    let cases = [
        (1023, 300, 1, Random),
        (9, 30_000, 1, Flat),
        (2, 140_000, 1, Stripes),
        (1, 300_000, 1, Ramp),
        (2001, 601, 3, Random),
        (2001, 530, 2, Flat),
        (600, 400, 1, Stripes),
        (33, 17, 1, Random),
        (1024, 300, 1, Stripes),
        (1021, 301, 1, Ramp),
        (2001, 800, 2, Random),
        (2001, 800, 2, Stripes),
        (2001, 1200, 2, RandomThenFlat),
    ];
    let mut counter = HistogramCounter::new();
    for (seed, &(w, h, threads, pattern)) in cases.iter().enumerate() {
        let (mut big, x, y) = embedded_u8(w, h, seed as u64);
        {
            let mut whole = big.as_view_mut();
            let mut view = whole.sub_view_mut(x, y, w, h).unwrap();
            for (r, row) in view.rows_mut().enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    match pattern {
                        Random => {}
                        Flat => *v = 255,
                        Stripes => *v = if c % 2 == 0 { 0 } else { 255 },
                        Ramp => *v = ((r * w + c) / 97 % 256) as u8,
                        RandomThenFlat if r >= h / 2 => *v = 7,
                        RandomThenFlat => {}
                    }
                }
            }
        }
        let src = big.as_view().sub_view(x, y, w, h).unwrap();
        let want = plain_count(&src);
        assert_eq!(want.iter().sum::<u64>(), (w * h) as u64);
        let pool = pool(threads);
        for round in 0..2 {
            let got = pool.install(|| counter.count(&src));
            assert_eq!(
                got, want,
                "{w}x{h} {pattern:?}, {threads} threads, round {round}"
            );
        }
    }
}

#[test]
fn otsu_and_triangle_pick_the_same_levels_as_opencv() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/threshold_levels.json"
    ))
    .unwrap();
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() > 15);
    for case in cases {
        let mut hist: Histogram = [0; 256];
        for (h, v) in hist.iter_mut().zip(case["hist"].as_array().unwrap()) {
            *h = v.as_u64().unwrap();
        }
        let name = case["name"].as_str().unwrap();
        assert_eq!(
            u64::from(otsu_level(&hist)),
            case["otsu"].as_u64().unwrap(),
            "otsu {name}"
        );
        assert_eq!(
            i64::from(triangle_level(&hist)),
            case["triangle"].as_i64().unwrap(),
            "triangle {name}"
        );
    }
    assert_eq!(otsu_level(&[0; 256]), 0);
    assert_eq!(triangle_level(&[0; 256]), 0);
}

#[test]
fn a_level_of_minus_one_puts_every_pixel_above() {
    use frameline::kernels::threshold::threshold_u8_level;
    let src = Image::from_fn(5, 3, |x, y| (x * 40 + y) as u8).unwrap();
    let mut out = Image::<u8>::new(5, 3).unwrap();
    type Expect = fn(u8) -> u8;
    let cases: [(ThresholdKind, Expect); 5] = [
        (ThresholdKind::Binary, |_| 200),
        (ThresholdKind::BinaryInv, |_| 0),
        (ThresholdKind::Trunc, |_| 0),
        (ThresholdKind::ToZero, |v| v),
        (ThresholdKind::ToZeroInv, |_| 0),
    ];
    for (kind, want) in cases {
        threshold_u8_level(&src.as_view(), &mut out.as_view_mut(), -1, 200, kind).unwrap();
        for y in 0..3 {
            for x in 0..5 {
                assert_eq!(
                    out.get(x, y).unwrap(),
                    want(src.get(x, y).unwrap()),
                    "{kind:?}"
                );
            }
        }
    }
}

#[test]
fn otsu_threshold_binarizes_with_its_level() {
    // Two clusters: every dark pixel below the level, every bright one above.
    let src = Image::from_fn(97, 31, |x, y| {
        if (x + y) % 3 == 0 {
            200 + (x % 7) as u8
        } else {
            30 + (y % 5) as u8
        }
    })
    .unwrap();
    let mut out = Image::<u8>::new(97, 31).unwrap();
    let level = otsu_threshold(
        &src.as_view(),
        &mut out.as_view_mut(),
        255,
        ThresholdKind::Binary,
    )
    .unwrap();
    assert!((34..200).contains(&level), "{level}");
    for y in 0..31 {
        for x in 0..97 {
            assert_eq!(out.get(x, y).unwrap() == 255, src.get(x, y).unwrap() >= 200);
        }
    }
}
