//! Box filter, integral images and local statistics against brute-force float64
//! references (windows summed pixel by pixel with the same border mapping), on awkward
//! shapes, every SIMD level, strided views and several thread counts.

mod common;

use common::*;
use frameline::kernels::border::Border;
use frameline::kernels::boxfilter::BoxFilter;
use frameline::kernels::integral::{
    integral_sq_u8, integral_u8, integral_u8_at, integral_u8_f64, window_sum,
};
use frameline::kernels::localstats::{LocalStats, LocalThreshold};
use frameline::testing::{random_image, random_u8};
use frameline::{DType, Error, Image, ImageView, SimdLevel};

/// Brute-force window sums of `f(pixel)` (OpenCV anchor: extra row/column above/left).
fn brute(
    w: usize,
    h: usize,
    kx: usize,
    ky: usize,
    border: Border,
    px: &dyn Fn(usize, usize) -> f64,
    c: f64,
) -> Vec<f64> {
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for dy in 0..ky {
                for dx in 0..kx {
                    let sx = x as isize + dx as isize - (kx / 2) as isize;
                    let sy = y as isize + dy as isize - (ky / 2) as isize;
                    s += match (border.map(sx, w), border.map(sy, h)) {
                        (Some(sx), Some(sy)) => px(sx, sy),
                        _ => c,
                    };
                }
            }
            out[y * w + x] = s;
        }
    }
    out
}

const BORDERS: [Border; 3] = [
    Border::Reflect101,
    Border::Replicate,
    Border::Constant(17.0),
];

#[test]
fn box_u8_sums_are_exact_and_means_round_like_opencv() {
    for border in BORDERS {
        // 1100 wide: several chunks of window sums per row (narrow windows above 257 px).
        for (w, h) in [
            (1, 1),
            (1, 7),
            (7, 1),
            (3, 2),
            (37, 11),
            (130, 5),
            (1100, 3),
        ] {
            // Areas up to 257 take the 16-bit path, larger ones the 32-bit path.
            for (kx, ky) in [
                (1, 1),
                (3, 3),
                (4, 4),
                (7, 5),
                (2, 9),
                (16, 16),
                (257, 1),
                (17, 17),
                (31, 9),
                (16, 20),
                (4, 70),
            ] {
                let src = random_u8(w, h, (w * h + kx) as u64).unwrap();
                let sums = brute(
                    w,
                    h,
                    kx,
                    ky,
                    border,
                    &|x, y| f64::from(src.get(x, y).unwrap()),
                    17.0,
                );
                for level in levels() {
                    let mut plan = BoxFilter::new((kx, ky), border).unwrap();
                    let mut s = Image::<u32>::new(w, h).unwrap();
                    plan.sum_u8_at(level, &src.as_view(), &mut s.as_view_mut())
                        .unwrap();
                    let mut m = Image::<u8>::new(w, h).unwrap();
                    plan.mean_u8_at(level, &src.as_view(), &mut m.as_view_mut())
                        .unwrap();
                    let n = (kx * ky) as f32;
                    for (i, (&got, &mean)) in s
                        .as_view()
                        .rows()
                        .flatten()
                        .zip(m.as_view().rows().flatten())
                        .enumerate()
                    {
                        assert_eq!(
                            f64::from(got),
                            sums[i],
                            "{level} {border:?} {w}x{h} k{kx}x{ky} #{i}"
                        );
                        let want = (sums[i] as f32 * (1.0 / n)).round_ties_even() as u8;
                        assert_eq!(mean, want, "{level} mean #{i}");
                    }
                }
            }
        }
    }
}

#[test]
fn box_f32_and_local_stats_match_f64_references() {
    for border in BORDERS {
        // 1100 wide: several chunks of window sums per row.
        for (w, h) in [(1, 1), (5, 3), (40, 9), (67, 70), (1100, 4)] {
            for k in [1, 3, 6, 7, 25] {
                let img = random_image(DType::F32, w, h, (w + k) as u64).unwrap();
                let src = img.as_view().typed::<f32>().unwrap();
                let px = |x: usize, y: usize| f64::from(src.get(x, y).unwrap());
                let s1 = brute(w, h, k, k, border, &px, 17.0);
                let s2 = brute(w, h, k, k, border, &|x, y| px(x, y) * px(x, y), 17.0 * 17.0);
                let n = (k * k) as f64;
                for level in levels() {
                    let mut b = Image::<f32>::new(w, h).unwrap();
                    BoxFilter::new((k, k), border)
                        .unwrap()
                        .apply_f32_at(level, &src, &mut b.as_view_mut(), true)
                        .unwrap();
                    let mut sd = Image::<f32>::new(w, h).unwrap();
                    let mut stats = LocalStats::new(k, border).unwrap();
                    stats.std_at(level, &src, &mut sd.as_view_mut()).unwrap();
                    let mut map = Image::<f32>::new(w, h).unwrap();
                    let sauvola = LocalThreshold::Sauvola { k: 0.5, r: 128.0 };
                    stats
                        .threshold_map_at(level, &src, &mut map.as_view_mut(), sauvola)
                        .unwrap();
                    for i in 0..w * h {
                        let (x, y) = (i % w, i / w);
                        let m = s1[i] / n;
                        let want_sd = (s2[i] / n - m * m).max(0.0).sqrt();
                        let tol = |v: f64| 1e-5 * v.abs().max(1.0);
                        let got = f64::from(b.get(x, y).unwrap());
                        assert!(
                            (got - m).abs() <= tol(m),
                            "{level} {border:?} box {w}x{h} k{k}: {got} vs {m}"
                        );
                        // The deviation loses precision where the variance is tiny next to m².
                        let got = f64::from(sd.get(x, y).unwrap());
                        assert!(
                            (got - want_sd).abs() <= 1e-3 * want_sd.max(1.0),
                            "{level} std {got} vs {want_sd}"
                        );
                        let want_map = m * (1.0 + 0.5 * (want_sd / 128.0 - 1.0));
                        let got = f64::from(map.get(x, y).unwrap());
                        assert!(
                            (got - want_map).abs() <= 1e-3 * want_map.abs().max(1.0),
                            "{level} sauvola {got} vs {want_map}"
                        );
                    }
                }
            }
        }
    }
}

/// The f32 maps (mean, deviation, Niblack, Sauvola, mean − c) have the same bits on every
/// level: narrow windows (fused with their window sums on AVX-512), a wide one (its
/// window sums handed over as single columns), every border, rows past a restart row,
/// rows of several chunks and rows narrower than a vector.
#[test]
fn f32_maps_have_the_same_bits_on_every_level() {
    let maps = [
        LocalThreshold::Niblack { k: -0.2 },
        LocalThreshold::Sauvola { k: 0.5, r: 128.0 },
        LocalThreshold::Mean { c: 2.5 },
    ];
    for border in BORDERS {
        for (w, h) in [(1100, 70), (37, 9), (5, 3)] {
            let img = random_image(DType::F32, w, h, (w * h) as u64).unwrap();
            let src = img.as_view().typed::<f32>().unwrap();
            for k in [1, 2, 3, 7, 8, 15, 16, 17, 25] {
                let run = |level: SimdLevel| {
                    let mut stats = LocalStats::new(k, border).unwrap();
                    let mut images = Vec::new();
                    let mut out = Image::<f32>::new(w, h).unwrap();
                    stats.mean_at(level, &src, &mut out.as_view_mut()).unwrap();
                    images.push(out.clone());
                    stats.std_at(level, &src, &mut out.as_view_mut()).unwrap();
                    images.push(out.clone());
                    for method in maps {
                        stats
                            .threshold_map_at(level, &src, &mut out.as_view_mut(), method)
                            .unwrap();
                        images.push(out.clone());
                    }
                    images
                        .iter()
                        .map(|im| {
                            let v = im.as_view();
                            v.rows().flatten().map(|x| x.to_bits()).collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                };
                let want = run(SimdLevel::Scalar);
                for level in levels() {
                    assert!(
                        run(level) == want,
                        "{level} {border:?} {w}x{h} k{k}: f32 maps differ from scalar"
                    );
                }
            }
        }
    }
}

#[test]
fn u8_stats_and_binary_thresholds() {
    // 1100 wide: several chunks of window sums per row.
    for (w, h) in [(61, 23), (1100, 3)] {
        let src = random_u8(w, h, 12).unwrap();
        let px = |x: usize, y: usize| f64::from(src.get(x, y).unwrap());
        for k in [3, 15, 25] {
            let border = Border::Reflect101;
            let s1 = brute(w, h, k, k, border, &px, 0.0);
            let s2 = brute(w, h, k, k, border, &|x, y| px(x, y) * px(x, y), 0.0);
            let n = (k * k) as f64;
            for method in [
                LocalThreshold::Mean { c: 5.0 },
                LocalThreshold::Niblack { k: -0.2 },
                LocalThreshold::Sauvola { k: 0.5, r: 128.0 },
            ] {
                for level in levels() {
                    let mut stats = LocalStats::new(k, border).unwrap();
                    let mut bin = Image::<u8>::new(w, h).unwrap();
                    stats
                        .adaptive_threshold_at(
                            level,
                            &src.as_view(),
                            &mut bin.as_view_mut(),
                            method,
                        )
                        .unwrap();
                    let mut map = Image::<f32>::new(w, h).unwrap();
                    stats
                        .threshold_map_at(level, &src.as_view(), &mut map.as_view_mut(), method)
                        .unwrap();
                    for i in 0..w * h {
                        let (x, y) = (i % w, i / w);
                        let m = s1[i] / n;
                        let sd = (s2[i] / n - m * m).max(0.0).sqrt();
                        let t = match method {
                            LocalThreshold::Mean { c } => m - c,
                            LocalThreshold::Niblack { k } => m + k * sd,
                            LocalThreshold::Sauvola { k, r } => m * (1.0 + k * (sd / r - 1.0)),
                        };
                        assert!(
                            (f64::from(map.get(x, y).unwrap()) - t).abs() < 1e-3,
                            "{level} {method:?} map"
                        );
                        // Pixels within round-off of their threshold may fall either way.
                        if (px(x, y) - t).abs() > 1e-6 {
                            let want = if px(x, y) > t { 255 } else { 0 };
                            assert_eq!(
                                bin.get(x, y).unwrap(),
                                want,
                                "{level} {method:?} k{k} ({x},{y})"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn threads_and_strided_views_give_identical_output() {
    let (big, x, y) = embedded_u8(1203, 517, 3);
    let src = big.as_view().sub_view(x, y, 1203, 517).unwrap();
    let f = random_image(DType::F32, 1203, 517, 4).unwrap();
    let fsrc = f.as_view().typed::<f32>().unwrap();
    let run = |threads: usize| {
        pool(threads).install(|| {
            let mut boxes = Image::<u8>::new(1203, 517).unwrap();
            BoxFilter::new((7, 7), Border::Reflect101)
                .unwrap()
                .mean_u8(&src, &mut boxes.as_view_mut())
                .unwrap();
            let mut sd = Image::<f32>::new(1203, 517).unwrap();
            LocalStats::new(25, Border::Reflect101)
                .unwrap()
                .std(&fsrc, &mut sd.as_view_mut())
                .unwrap();
            let mut bin = Image::<u8>::new(1203, 517).unwrap();
            LocalStats::new(25, Border::Reflect101)
                .unwrap()
                .adaptive_threshold(
                    &src,
                    &mut bin.as_view_mut(),
                    LocalThreshold::Sauvola { k: 0.5, r: 128.0 },
                )
                .unwrap();
            // Narrow windows (columns first), f32 and a constant border.
            let mut sd7 = Image::<f32>::new(1203, 517).unwrap();
            LocalStats::new(7, Border::Constant(9.0))
                .unwrap()
                .std(&fsrc, &mut sd7.as_view_mut())
                .unwrap();
            let mut box_f32 = Image::<f32>::new(1203, 517).unwrap();
            BoxFilter::new((16, 5), Border::Replicate)
                .unwrap()
                .apply_f32(&fsrc, &mut box_f32.as_view_mut(), false)
                .unwrap();
            (boxes, sd, bin, sd7, box_f32)
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        let many = run(threads);
        assert!(one.0 == many.0 && one.2 == many.2, "{threads} threads");
        // Floats too: column sums restart at fixed rows, whatever the banding.
        assert!(one.1 == many.1, "{threads} threads (f32)");
        assert!(one.3 == many.3, "{threads} threads (f32, 7x7)");
        assert!(one.4 == many.4, "{threads} threads (f32 box 16x5)");
    }
}

#[test]
fn integral_images() {
    for (w, h) in [(1, 1), (1, 5), (5, 1), (33, 17), (640, 3)] {
        let src = random_u8(w, h, 9).unwrap();
        for level in levels() {
            let mut ii = Image::<u32>::new(w + 1, h + 1).unwrap();
            integral_u8_at(level, &src.as_view(), &mut ii.as_view_mut()).unwrap();
            let mut exact = 0u64;
            for y in 0..=h {
                for x in 0..=w {
                    let want: u64 = (0..y)
                        .flat_map(|yy| (0..x).map(move |xx| (xx, yy)))
                        .map(|(xx, yy)| u64::from(src.get(xx, yy).unwrap()))
                        .sum();
                    if x == w && y == h {
                        exact = want;
                    }
                    if (x * 7 + y) % 5 == 0 || x == w {
                        assert_eq!(
                            u64::from(ii.get(x, y).unwrap()),
                            want,
                            "{level} {w}x{h} at ({x},{y})"
                        );
                    }
                }
            }
            assert_eq!(
                u64::from(window_sum(&ii.as_view(), 0, 0, w, h).unwrap()),
                exact
            );
        }
        let mut f = Image::<f64>::new(w + 1, h + 1).unwrap();
        integral_u8_f64(&src.as_view(), &mut f.as_view_mut()).unwrap();
        let mut sq = Image::<f64>::new(w + 1, h + 1).unwrap();
        integral_sq_u8(&src.as_view(), &mut sq.as_view_mut()).unwrap();
        let want_sq: f64 = src
            .as_view()
            .rows()
            .flatten()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum();
        assert_eq!(sq.get(w, h).unwrap(), want_sq);
        let mut ii = Image::<u32>::new(w + 1, h + 1).unwrap();
        integral_u8(&src.as_view(), &mut ii.as_view_mut()).unwrap();
        assert_eq!(f.get(w, h).unwrap(), f64::from(ii.get(w, h).unwrap()));
    }
    let sub = window_sum(
        &ImageView::from_slice(&[0u32, 0, 0, 0, 1, 2, 0, 3, 10], 3, 3).unwrap(),
        1,
        1,
        1,
        1,
    );
    assert_eq!(sub, Some(10 - 2 - 3 + 1));
}

#[test]
fn bad_sizes_are_errors() {
    let src = Image::<u8>::new(8, 8).unwrap();
    let mut wrong = Image::<u32>::new(8, 8).unwrap();
    assert!(matches!(
        integral_u8(&src.as_view(), &mut wrong.as_view_mut()),
        Err(Error::SizeMismatch { .. })
    ));
    assert!(matches!(
        BoxFilter::new((0, 3), Border::Reflect101),
        Err(Error::BadParam { .. })
    ));
    // The widest boxes still sum exactly in u32 on u8 images (4095² · 255 < 2³²).
    let mut plan = BoxFilter::new((4095, 4095), Border::Reflect101).unwrap();
    let mut out = Image::<u8>::new(8, 8).unwrap();
    plan.mean_u8(&src.as_view(), &mut out.as_view_mut())
        .unwrap();
    assert!(BoxFilter::new((4096, 3), Border::Reflect101).is_err());
    let mut small = Image::<u8>::new(8, 7).unwrap();
    let mut plan = BoxFilter::new((3, 3), Border::Reflect101).unwrap();
    assert!(matches!(
        plan.mean_u8(&src.as_view(), &mut small.as_view_mut()),
        Err(Error::SizeMismatch { .. })
    ));
    assert!(LocalStats::new(0, Border::Reflect101).is_err());
    let mut stats = LocalStats::new(3, Border::Reflect101).unwrap();
    let bad = LocalThreshold::Sauvola { k: 0.5, r: 0.0 };
    assert!(matches!(
        stats.adaptive_threshold(&src.as_view(), &mut out.as_view_mut(), bad),
        Err(Error::BadParam { .. })
    ));
}

#[test]
fn box_u8_small_path_at_its_sum_limits() {
    // Windows of 257 pixels (the 16-bit path's limit) on saturated images: every sum is
    // 257 · 255 = 65535, the largest u16; the constant border adds 255s too.
    for border in [
        Border::Reflect101,
        Border::Replicate,
        Border::Constant(255.0),
    ] {
        for (kx, ky) in [(1, 257), (257, 1), (16, 16)] {
            for (w, h) in [(1, 1), (3, 300), (300, 3), (40, 40)] {
                let src = Image::<u8>::filled(w, h, 255).unwrap();
                for level in levels() {
                    let mut plan = BoxFilter::new((kx, ky), border).unwrap();
                    let mut m = Image::<u8>::new(w, h).unwrap();
                    plan.mean_u8_at(level, &src.as_view(), &mut m.as_view_mut())
                        .unwrap();
                    assert!(
                        m.as_view().rows().flatten().all(|&v| v == 255),
                        "{level} {border:?} k{kx}x{ky} {w}x{h}"
                    );
                }
            }
        }
    }
}

/// Deviations whose variance is beyond f32 (values around 1e20) take an f64 root, the
/// rest of the row the f32 one; both match the float64 reference on every level.
#[test]
fn local_std_beyond_f32_variance() {
    // Huge values in a later chunk of window sums (x >= 512) and in every other row.
    let (w, h, k) = (700, 6, 3);
    let mut img = Image::<f32>::new(w, h).unwrap();
    for y in 0..h {
        for x in 0..w {
            // A band of huge values in the middle of each row, ordinary pixels around it.
            let v = if (600..606).contains(&x) && y % 2 == 0 {
                if (x + y) % 2 == 0 { 3e20 } else { -1e20 }
            } else {
                ((x * 7 + y * 13) % 256) as f32
            };
            img.as_view_mut().row_mut(y)[x] = v;
        }
    }
    let src = img.as_view();
    let px = |x: usize, y: usize| f64::from(src.get(x, y).unwrap());
    let border = Border::Reflect101;
    let s1 = brute(w, h, k, k, border, &px, 0.0);
    let s2 = brute(w, h, k, k, border, &|x, y| px(x, y) * px(x, y), 0.0);
    let n = (k * k) as f64;
    for level in levels() {
        let mut stats = LocalStats::new(k, border).unwrap();
        let mut sd = Image::<f32>::new(w, h).unwrap();
        stats.std_at(level, &src, &mut sd.as_view_mut()).unwrap();
        let (niblack, sauvola) = (
            LocalThreshold::Niblack { k: -0.2 },
            LocalThreshold::Sauvola { k: 0.5, r: 128.0 },
        );
        let mut maps = [
            Image::<f32>::new(w, h).unwrap(),
            Image::<f32>::new(w, h).unwrap(),
        ];
        for (map, t) in maps.iter_mut().zip([niblack, sauvola]) {
            stats
                .threshold_map_at(level, &src, &mut map.as_view_mut(), t)
                .unwrap();
        }
        let mut beyond = 0;
        for i in 0..w * h {
            let (x, y) = (i % w, i / w);
            let m = s1[i] / n;
            let var = s2[i] / n - m * m;
            beyond += usize::from(var > f64::from(f32::MAX));
            let want = var.max(0.0).sqrt();
            let got = f64::from(sd.get(x, y).unwrap());
            assert!(got.is_finite(), "{level} ({x},{y}): {got}");
            assert!(
                (got - want).abs() <= 1e-3 * want.max(1.0),
                "{level} ({x},{y}): {got} vs {want}"
            );
            let close =
                |got: f32, want: f64| (f64::from(got) - want).abs() <= 1e-3 * want.abs().max(1.0);
            let want_niblack = m - 0.2 * want;
            let got = maps[0].get(x, y).unwrap();
            assert!(
                close(got, want_niblack),
                "{level} ({x},{y}) niblack {got} vs {want_niblack}"
            );
            let want_sauvola = m * (1.0 + 0.5 * (want / 128.0 - 1.0));
            let got = maps[1].get(x, y).unwrap();
            assert!(
                close(got, want_sauvola),
                "{level} ({x},{y}) sauvola {got} vs {want_sauvola}"
            );
        }
        assert!(beyond > 0, "the image must have variances beyond f32");
    }
}

/// The banded integral (column sums, then each band from its first row) on several
/// threads equals the one-thread integral on every level: bands of a single row at the
/// end, a one-pixel-wide image, a strided source.
#[test]
fn integral_on_threads_equals_one_thread() {
    let (big, x0, y0) = embedded_u8(1203, 517, 5);
    let strided = big.as_view().sub_view(x0, y0, 1203, 517).unwrap();
    let plain: Vec<Image<u8>> = [
        (2048, 128),
        (4096, 65),
        (4096, 64),
        (2048, 129),
        (1, 300_000),
    ]
    .iter()
    .map(|&(w, h)| random_u8(w, h, (w + h) as u64).unwrap())
    .collect();
    let sources: Vec<ImageView<'_, u8>> = std::iter::once(strided)
        .chain(plain.iter().map(|i| i.as_view()))
        .collect();
    for src in sources {
        let (w, h) = src.size();
        let mut want = Image::<u32>::new(w + 1, h + 1).unwrap();
        pool(1)
            .install(|| integral_u8_at(SimdLevel::Scalar, &src, &mut want.as_view_mut()).unwrap());
        for threads in [2, 3, 8] {
            for level in levels() {
                // Into a strided view of a wider image, whose other values stay.
                let mut big = Image::<u32>::new(w + 4, h + 2).unwrap();
                big.as_view_mut().fill(7);
                {
                    let mut whole = big.as_view_mut();
                    let mut got = whole.sub_view_mut(3, 1, w + 1, h + 1).unwrap();
                    pool(threads).install(|| integral_u8_at(level, &src, &mut got).unwrap());
                }
                let what = format!("{level} {threads} threads {w}x{h}");
                for (y, row) in big.as_view().rows().enumerate() {
                    if (1..=h + 1).contains(&y) {
                        assert!(
                            row[3..w + 4] == *want.as_view().row(y - 1),
                            "{what} row {y}"
                        );
                        assert!(
                            row[..3].iter().chain(&row[w + 4..]).all(|&v| v == 7),
                            "{what}: written outside the view"
                        );
                    } else {
                        assert!(row.iter().all(|&v| v == 7), "{what}: written outside");
                    }
                }
            }
        }
    }
}
