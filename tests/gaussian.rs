//! Gaussian blur: every SIMD level against the scalar reference (u8 bit-exact, f32 to
//! 1e-5 relative), the scalar reference against a float64 separable convolution
//! (u8 within ±1), borders on tiny images, strided views, threads == one thread.

mod common;

use common::*;
use frameline::kernels::border::Border;
use frameline::kernels::gaussian::boxes::box_widths;
use frameline::kernels::gaussian::{
    GaussianBlur, GaussianMethod, GaussianParams, ksize_for_sigma, vertical_first_tile_width,
};
use frameline::testing::{random_image, random_u8};
use frameline::{DType, Error, Image, ImageView, SimdLevel};

/// Separable float64 convolution with the same kernels and border mapping.
fn reference(
    src: &dyn Fn(usize, usize) -> f64,
    w: usize,
    h: usize,
    p: &GaussianParams,
    dtype: DType,
) -> Vec<f64> {
    let (kx, ky) = p.kernels(dtype).unwrap();
    let (rx, ry) = ((kx.len() / 2) as isize, (ky.len() / 2) as isize);
    let constant = match p.border {
        Border::Constant(v) => f64::from(v),
        _ => 0.0,
    };
    let constant = if dtype == DType::U8 {
        constant.round().clamp(0.0, 255.0)
    } else {
        constant
    };
    let mut mid = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            mid[y * w + x] = kx
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let sx = x as isize + j as isize - rx;
                    c * p.border.map(sx, w).map_or(constant, |sx| src(sx, y))
                })
                .sum();
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = ky
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let sy = y as isize + j as isize - ry;
                    // A constant border row, filtered horizontally, stays the constant.
                    c * p.border.map(sy, h).map_or(constant, |sy| mid[sy * w + x])
                })
                .sum();
        }
    }
    out
}

fn blur_u8(level: SimdLevel, src: &ImageView<'_, u8>, p: GaussianParams) -> Image<u8> {
    let mut out = Image::new(src.width(), src.height()).unwrap();
    GaussianBlur::new(p)
        .unwrap()
        .apply_u8_at(level, src, &mut out.as_view_mut())
        .unwrap();
    out
}

fn blur_f32(level: SimdLevel, src: &ImageView<'_, f32>, p: GaussianParams) -> Image<f32> {
    let mut out = Image::new(src.width(), src.height()).unwrap();
    GaussianBlur::new(p)
        .unwrap()
        .apply_f32_at(level, src, &mut out.as_view_mut())
        .unwrap();
    out
}

fn assert_u8_near_reference(
    src: &ImageView<'_, u8>,
    got: &Image<u8>,
    p: &GaussianParams,
    what: &str,
) {
    let (w, h) = src.size();
    let want = reference(
        &|x, y| f64::from(src.get(x, y).unwrap()),
        w,
        h,
        p,
        DType::U8,
    );
    for y in 0..h {
        for x in 0..w {
            let diff = (f64::from(got.get(x, y).unwrap()) - want[y * w + x]).abs();
            assert!(
                diff <= 1.0,
                "{what}: ({x},{y}) got {} want {:.3}",
                got.get(x, y).unwrap(),
                want[y * w + x]
            );
        }
    }
}

/// Every level's f32 blur of `src` within 1e-5 relative of the float64 reference.
fn assert_f32_near_reference(src: &ImageView<'_, f32>, p: GaussianParams, what: &str) {
    let (w, h) = src.size();
    let exact = reference(
        &|x, y| f64::from(src.get(x, y).unwrap()),
        w,
        h,
        &p,
        DType::F32,
    );
    for level in levels() {
        let got = blur_f32(level, src, p);
        for (i, v) in got.as_view().rows().flatten().enumerate() {
            assert!(
                (f64::from(*v) - exact[i]).abs() <= 1e-5 * exact[i].abs().max(1.0),
                "{level} {what} #{i}: {v} vs {}",
                exact[i]
            );
        }
    }
}

fn params_list() -> Vec<GaussianParams> {
    vec![
        GaussianParams::new(1, 0.0),
        GaussianParams::new(3, 0.0),
        GaussianParams::new(5, 0.0),
        GaussianParams::new(7, 0.0),
        GaussianParams::new(9, 0.0),
        GaussianParams::new(5, 1.3),
        GaussianParams::new(0, 2.0),
        GaussianParams::anisotropic((7, 3), (2.0, 0.6)),
        GaussianParams::new(31, 5.0),
    ]
}

#[test]
fn u8_every_level_is_bit_exact_with_scalar_and_within_one_of_f64() {
    for p in params_list() {
        for &w in &awkward_widths() {
            // Heights that end on a one-, two- and four-row vertical pass.
            for h in [1, 3, 6, 17] {
                let src = random_u8(w, h, (w * 7 + h) as u64).unwrap();
                let want = blur_u8(SimdLevel::Scalar, &src.as_view(), p);
                if w <= 130 {
                    assert_u8_near_reference(&src.as_view(), &want, &p, &format!("{p:?} {w}x{h}"));
                }
                for level in levels() {
                    assert_eq!(
                        blur_u8(level, &src.as_view(), p),
                        want,
                        "{level} {p:?} {w}x{h}"
                    );
                }
            }
        }
    }
}

#[test]
fn f32_every_level_matches_scalar_and_f64() {
    for p in params_list() {
        for &w in &awkward_widths() {
            // Heights that end on a one-, two- and four-row vertical pass.
            for h in [1, 3, 6, 17] {
                let src = random_image(DType::F32, w, h, w as u64).unwrap();
                let src = src.as_view().typed::<f32>().unwrap();
                let want = blur_f32(SimdLevel::Scalar, &src, p);
                let exact = reference(
                    &|x, y| f64::from(src.get(x, y).unwrap()),
                    w,
                    h,
                    &p,
                    DType::F32,
                );
                for (i, v) in want.as_view().rows().flatten().enumerate() {
                    let e = exact[i];
                    assert!(
                        (f64::from(*v) - e).abs() <= 1e-5 * e.abs().max(1.0),
                        "{p:?} {w}x{h} #{i}: {v} vs {e}"
                    );
                }
                for level in levels() {
                    let got = blur_f32(level, &src, p);
                    for (a, b) in got
                        .as_view()
                        .rows()
                        .flatten()
                        .zip(want.as_view().rows().flatten())
                    {
                        assert!(
                            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                            "{level} {p:?} {w}x{h}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn borders_on_tiny_images() {
    let borders = [
        Border::Reflect101,
        Border::Replicate,
        Border::Constant(40.0),
    ];
    for border in borders {
        // Height 2: one two-row vertical pass and nothing else.
        for (w, h) in [
            (1, 1),
            (1, 9),
            (9, 1),
            (2, 3),
            (4, 4),
            (40, 3),
            (5, 2),
            (70, 2),
        ] {
            for k in [3, 5, 9, 31, 33, 65] {
                // The direct path's bound (auto takes the box cascade from k = 33).
                let p = GaussianParams::new(k, 0.0)
                    .with_border(border)
                    .with_method(GaussianMethod::Direct);
                let src = random_u8(w, h, 3).unwrap();
                for level in levels() {
                    let got = blur_u8(level, &src.as_view(), p);
                    assert_u8_near_reference(
                        &src.as_view(),
                        &got,
                        &p,
                        &format!("{level} {border:?} k{k} {w}x{h}"),
                    );
                }
                let srcf = random_image(DType::F32, w, h, 4).unwrap();
                let srcf = srcf.as_view().typed::<f32>().unwrap();
                assert_f32_near_reference(&srcf, p, &format!("{border:?} k{k} {w}x{h}"));
            }
        }
    }
}

#[test]
fn several_column_tiles_read_interior_rows_in_place() {
    // Tiles are as wide as keeps the ring (f32: the source rows a vertical step reads)
    // within 256 KB: f32 k=65 takes 960 columns, so a 3000-wide frame has interior tiles
    // between the border ones, and 2890 wide ends on a tile of 10 columns, narrower than
    // the kernel's reach (every border; heights end on four-, two- and one-row steps);
    // u8 k=31 takes 4096 columns, so 9000 wide has one; f32 with a short vertical kernel
    // (vertical pass first) and a long horizontal one ends on a tile of 808, with 20
    // columns of reach (its tiles' width depends on this machine's L2 cache).
    for border in [Border::Reflect101, Border::Replicate, Border::Constant(9.0)] {
        for (w, h) in [(3000, 5), (2890, 7)] {
            let p = GaussianParams::new(65, 0.0)
                .with_border(border)
                .with_method(GaussianMethod::Direct);
            let srcf = random_image(DType::F32, w, h, 6).unwrap();
            let srcf = srcf.as_view().typed::<f32>().unwrap();
            assert_f32_near_reference(&srcf, p, &format!("f32 k65 {w}x{h} {border:?}"));
        }
    }
    for border in [Border::Reflect101, Border::Replicate] {
        let p = GaussianParams::anisotropic((41, 5), (6.0, 1.0))
            .with_border(border)
            .with_method(GaussianMethod::Direct);
        let w = vertical_first_tile_width(usize::MAX, 5) + 808;
        let srcf = random_image(DType::F32, w, 6, 8).unwrap();
        let srcf = srcf.as_view().typed::<f32>().unwrap();
        assert_f32_near_reference(&srcf, p, &format!("f32 41x5 {w}x6 {border:?}"));
    }
    // f32 k=31 and k=11 run vertical first with the transposed eight-row horizontal
    // pass: the images end on a tile of 37 columns, 5 past its last 16-column block; 21
    // and 13 rows end on four- and one-row steps; 29 rows make three eight-row steps,
    // the first two asking for the next one's rows.
    for (k, h) in [(31, 21), (11, 13), (31, 29)] {
        let p = GaussianParams::new(k, 0.0);
        let w = vertical_first_tile_width(usize::MAX, k) + 37;
        let srcf = random_image(DType::F32, w, h, 9).unwrap();
        let srcf = srcf.as_view().typed::<f32>().unwrap();
        assert_f32_near_reference(&srcf, p, &format!("f32 k{k} {w}x{h}"));
    }
    let p = GaussianParams::new(31, 0.0);
    let src = random_u8(9000, 3, 7).unwrap();
    let want = blur_u8(SimdLevel::Scalar, &src.as_view(), p);
    assert_u8_near_reference(&src.as_view(), &want, &p, "u8 k31 9000 wide");
    for level in levels() {
        assert_eq!(blur_u8(level, &src.as_view(), p), want, "{level} u8");
    }
}

#[test]
fn large_kernels_stay_within_one() {
    // Worst case for quantized taps: a sharp edge under a wide kernel.
    let src = Image::from_fn(300, 21, |x, y| if (x / 7 + y) % 2 == 0 { 255 } else { 0 }).unwrap();
    for k in [3, 15, 31, 33, 63, 101, 255] {
        let p = GaussianParams::new(k, 0.0).with_method(GaussianMethod::Direct);
        let want = blur_u8(SimdLevel::Scalar, &src.as_view(), p);
        assert_u8_near_reference(&src.as_view(), &want, &p, &format!("k{k}"));
        for level in levels() {
            assert_eq!(blur_u8(level, &src.as_view(), p), want, "{level} k{k}");
        }
    }
}

#[test]
fn strided_views_and_threads() {
    let p = GaussianParams::new(7, 1.5);
    let (big, x, y) = embedded_u8(301, 157, 8);
    let src = big.as_view().sub_view(x, y, 301, 157).unwrap();
    let packed = src.to_image();
    let want = blur_u8(SimdLevel::Scalar, &packed.as_view(), p);
    for level in levels() {
        let mut out_big = Image::filled(320, 170, 9u8).unwrap();
        let mut outv = out_big.as_view_mut();
        let mut out = outv.sub_view_mut(11, 5, 301, 157).unwrap();
        GaussianBlur::new(p)
            .unwrap()
            .apply_u8_at(level, &src, &mut out)
            .unwrap();
        assert_eq!(out.as_view().to_image(), want, "{level}");
        assert_eq!(out_big.get(10, 5), Some(9));
        assert_eq!(out_big.get(312, 161), Some(9));
    }
    // f32 from and into strided views: the same bits as from a packed copy, for both
    // drivers (k = 7 reads the source rows in place; a constant border goes through the
    // ring).
    let big = random_image(DType::F32, 320, 170, 5).unwrap();
    let big = big.as_view().typed::<f32>().unwrap();
    let src = big.sub_view(7, 3, 301, 157).unwrap();
    let packed = src.to_image();
    for p in [p, p.with_border(Border::Constant(3.0))] {
        for level in levels() {
            let want = blur_f32(level, &packed.as_view(), p);
            let mut out_big = Image::filled(320, 170, -1.0f32).unwrap();
            let mut outv = out_big.as_view_mut();
            let mut out = outv.sub_view_mut(11, 5, 301, 157).unwrap();
            GaussianBlur::new(p)
                .unwrap()
                .apply_f32_at(level, &src, &mut out)
                .unwrap();
            assert!(out.as_view().to_image() == want, "{level} {p:?}");
            assert_eq!(out_big.get(10, 5), Some(-1.0));
            assert_eq!(out_big.get(312, 161), Some(-1.0));
        }
    }
    // Threads: big enough to be split in bands; identical to one thread.
    let src = random_u8(1000, 731, 2).unwrap();
    let mut plan = GaussianBlur::new(GaussianParams::new(9, 0.0)).unwrap();
    let mut one = Image::new(1000, 731).unwrap();
    let mut many = Image::new(1000, 731).unwrap();
    pool(1)
        .install(|| plan.apply_u8(&src.as_view(), &mut one.as_view_mut()))
        .unwrap();
    pool(4)
        .install(|| plan.apply_u8(&src.as_view(), &mut many.as_view_mut()))
        .unwrap();
    assert_eq!(one, many);
    // Three threads: bands of an odd height, so rows pair differently than on one.
    pool(3)
        .install(|| plan.apply_u8(&src.as_view(), &mut many.as_view_mut()))
        .unwrap();
    assert_eq!(one, many);
    let srcf = random_image(DType::F32, 1000, 731, 2).unwrap();
    let srcf = srcf.as_view().typed::<f32>().unwrap();
    let mut one = Image::new(1000, 731).unwrap();
    let mut many = Image::new(1000, 731).unwrap();
    pool(1)
        .install(|| plan.apply_f32(&srcf, &mut one.as_view_mut()))
        .unwrap();
    pool(3)
        .install(|| plan.apply_f32(&srcf, &mut many.as_view_mut()))
        .unwrap();
    assert_eq!(one, many);
    // The transposed eight-row horizontal pass (k 11 to 31): bands of every thread count
    // put a row in steps of eight, four, two or one rows, over several column tiles.
    let srcf = random_image(DType::F32, 1701, 203, 3).unwrap();
    let srcf = srcf.as_view().typed::<f32>().unwrap();
    for k in [11, 31] {
        let mut plan = GaussianBlur::new(GaussianParams::new(k, 0.0)).unwrap();
        let mut one = Image::new(1701, 203).unwrap();
        pool(1)
            .install(|| plan.apply_f32(&srcf, &mut one.as_view_mut()))
            .unwrap();
        for threads in [2, 3] {
            let mut many = Image::new(1701, 203).unwrap();
            pool(threads)
                .install(|| plan.apply_f32(&srcf, &mut many.as_view_mut()))
                .unwrap();
            assert!(one == many, "f32 k{k}, {threads} threads");
        }
    }
}

#[test]
fn sizes_follow_opencv_and_bad_parameters_are_errors() {
    assert_eq!(ksize_for_sigma(5.0, DType::U8), 31);
    assert_eq!(ksize_for_sigma(5.0, DType::F32), 41);
    assert_eq!(ksize_for_sigma(0.1, DType::U8), 3);
    assert_eq!(ksize_for_sigma(0.05, DType::U8), 1);
    let plan = GaussianBlur::new(GaussianParams::new(0, 5.0)).unwrap();
    assert_eq!((plan.ksize_u8(), plan.ksize_f32()), ((31, 31), (41, 41)));
    let (k, _) = GaussianParams::new(5, 0.0).kernels(DType::U8).unwrap();
    assert_eq!(k, [0.0625, 0.25, 0.375, 0.25, 0.0625]);
    for bad in [
        GaussianParams::new(4, 1.0),
        GaussianParams::new(0, 0.0),
        GaussianParams::new(3, -1.0),
        GaussianParams::new(3, f64::NAN),
        GaussianParams::new(100_001, 1.0),
        GaussianParams::anisotropic((3, 6), (1.0, 1.0)),
    ] {
        assert!(
            matches!(GaussianBlur::new(bad), Err(Error::BadParam { .. })),
            "{bad:?}"
        );
    }
    let src = Image::<u8>::new(8, 8).unwrap();
    let mut dst = Image::<u8>::new(8, 7).unwrap();
    let mut plan = GaussianBlur::new(GaussianParams::new(3, 0.0)).unwrap();
    assert!(matches!(
        plan.apply_u8(&src.as_view(), &mut dst.as_view_mut()),
        Err(Error::SizeMismatch { .. })
    ));
}

#[test]
fn box_cascade_matches_sigma_and_stays_close_to_the_exact_gaussian() {
    // The cascade's variance: each odd box of width w adds (w² − 1)/12.
    for sigma in [5.0, 15.5, 40.0] {
        let var: f64 = box_widths(sigma)
            .iter()
            .map(|&w| ((w * w - 1) as f64) / 12.0)
            .sum();
        assert!(
            (var.sqrt() - sigma).abs() / sigma < 0.06,
            "sigma {sigma}: cascade sigma {}",
            var.sqrt()
        );
    }
    // Accuracy on a smooth-plus-edges image, against the exact kernel of the same sigma.
    let (w, h) = (240, 160);
    let src = Image::from_fn(w, h, |x, y| {
        let edge = if (x / 40 + y / 40) % 2 == 0 {
            200.0
        } else {
            40.0
        };
        (edge + 20.0 * ((x as f64) * 0.05).sin()) as u8
    })
    .unwrap();
    for k in [61, 101] {
        let exact = GaussianParams::new(k, 0.0).with_method(GaussianMethod::Direct);
        let approx = GaussianParams::new(k, 0.0).with_method(GaussianMethod::Boxes);
        let want = blur_u8(SimdLevel::Scalar, &src.as_view(), exact);
        let mut worst = 0i32;
        for level in levels() {
            let got = blur_u8(level, &src.as_view(), approx);
            assert_eq!(
                got,
                blur_u8(SimdLevel::Scalar, &src.as_view(), approx),
                "{level}: levels agree"
            );
            for (a, b) in got
                .as_view()
                .rows()
                .flatten()
                .zip(want.as_view().rows().flatten())
            {
                worst = worst.max((i32::from(*a) - i32::from(*b)).abs());
            }
        }
        eprintln!("box cascade k{k}: max |boxes - exact| = {worst} gray levels (edges 40..200)");
        assert!(worst <= 4, "k{k}: {worst}");
        let srcf = random_image(DType::F32, w, h, 1).unwrap();
        let srcf = srcf.as_view().typed::<f32>().unwrap();
        let got = blur_f32(SimdLevel::best(), &srcf, approx);
        let want = blur_f32(SimdLevel::Scalar, &srcf, exact);
        let worst = got
            .as_view()
            .rows()
            .flatten()
            .zip(want.as_view().rows().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1.0, "f32 k{k}: {worst}");
    }
    // Auto switches at the measured crossover; threads do not change the result.
    let src = random_u8(800, 600, 5).unwrap();
    let mut plan = GaussianBlur::new(GaussianParams::new(151, 0.0)).unwrap();
    let mut one = Image::new(800, 600).unwrap();
    let mut many = Image::new(800, 600).unwrap();
    pool(1)
        .install(|| plan.apply_u8(&src.as_view(), &mut one.as_view_mut()))
        .unwrap();
    pool(3)
        .install(|| plan.apply_u8(&src.as_view(), &mut many.as_view_mut()))
        .unwrap();
    assert_eq!(one, many);
    assert_eq!(
        one,
        blur_u8(
            SimdLevel::Scalar,
            &src.as_view(),
            GaussianParams::new(151, 0.0).with_method(GaussianMethod::Boxes)
        )
    );
}

#[test]
fn the_box_cascade_only_takes_reflect101_and_tiny_sigmas_are_impulses() {
    // Other borders: an explicit cascade is refused, auto stays exact (direct).
    let replicate = GaussianParams::new(151, 0.0).with_border(Border::Replicate);
    assert!(matches!(
        GaussianBlur::new(replicate.with_method(GaussianMethod::Boxes)),
        Err(Error::BadParam { .. })
    ));
    let src = random_u8(60, 40, 2).unwrap();
    let got = blur_u8(SimdLevel::best(), &src.as_view(), replicate);
    assert_u8_near_reference(&src.as_view(), &got, &replicate, "auto k151 replicate");
    // A sigma whose square underflows: the identity, not NaN.
    for k in [3, 33] {
        let p = GaussianParams::new(k, 1e-300);
        assert_eq!(blur_u8(SimdLevel::best(), &src.as_view(), p), src, "k{k}");
        let f = random_image(DType::F32, 20, 10, 1).unwrap();
        let f = f.as_view().typed::<f32>().unwrap();
        assert_eq!(blur_f32(SimdLevel::best(), &f, p), f.to_image(), "f32 k{k}");
    }
    // Sigmas beyond the limit are refused with a message naming sigma.
    let err = GaussianBlur::new(GaussianParams::new(0, 1e9)).unwrap_err();
    assert!(err.to_string().contains("sigma"), "{err}");
    // Large u8 sigmas work through the cascade (box sums beyond 255 wide).
    let mut plan = GaussianBlur::new(GaussianParams::new(0, 200.0)).unwrap();
    let mut out = Image::<u8>::new(60, 40).unwrap();
    plan.apply_u8(&src.as_view(), &mut out.as_view_mut())
        .unwrap();
}

#[test]
fn binomial_kernels_at_full_scale_threads_and_strides() {
    // Saturated input with a saturated constant border reaches the 16-bit path's
    // largest sum (65280 + rounding) and must give 255 everywhere.
    for k in [3, 5] {
        let params = GaussianParams::new(k, 0.0).with_border(Border::Constant(255.0));
        let src = Image::<u8>::filled(70, 9, 255).unwrap();
        let mut out = Image::<u8>::new(70, 9).unwrap();
        let mut plan = GaussianBlur::new(params).unwrap();
        plan.apply_u8(&src.as_view(), &mut out.as_view_mut())
            .unwrap();
        assert!(out.as_view().rows().flatten().all(|&v| v == 255), "k{k}");
    }
    // Several bands on several threads, and a strided view, give the one-thread result.
    let (w, h) = (1000, 731);
    let src = frameline::testing::random_u8(w + 9, h + 4, 17).unwrap();
    let view = src.as_view().sub_view(5, 3, w, h).unwrap();
    for k in [3, 5] {
        let run_with = |threads: usize, border: Border| {
            let pool = frameline::bench::thread_pool(threads).unwrap();
            let mut out = Image::<u8>::new(w, h).unwrap();
            let params = GaussianParams::new(k, 0.0).with_border(border);
            let mut plan = GaussianBlur::new(params).unwrap();
            pool.install(|| plan.apply_u8(&view, &mut out.as_view_mut()))
                .unwrap();
            out
        };
        let run = |threads: usize| run_with(threads, Border::Reflect101);
        let one = run(1);
        assert_eq!(one, run(4), "k{k}: threads");
        // Bands start their rings inside the image, every border alike.
        for border in [Border::Replicate, Border::Constant(200.0)] {
            let one = run_with(1, border);
            assert_eq!(one, run_with(3, border), "k{k} {border:?}: threads");
        }
        let contiguous = view.to_image();
        let mut out = Image::<u8>::new(w, h).unwrap();
        GaussianBlur::new(GaussianParams::new(k, 0.0))
            .unwrap()
            .apply_u8(&contiguous.as_view(), &mut out.as_view_mut())
            .unwrap();
        assert_eq!(one, out, "k{k}: strided view");
    }
}

#[test]
fn rows_read_in_place_between_padded_edges_match_the_reference() {
    // Wide rows are read in place except near their edges, which are padded: the seams
    // (64 outputs in from the left, a multiple of 64 further on) checked against the
    // float64 reference on every level, every border, short and long kernels.
    for border in [Border::Reflect101, Border::Replicate, Border::Constant(9.0)] {
        for k in [7, 31] {
            let p = GaussianParams::new(k, 0.0)
                .with_border(border)
                .with_method(GaussianMethod::Direct);
            for w in [160, 257, 300, 1001] {
                let src = random_u8(w, 5, w as u64).unwrap();
                let srcf = random_image(DType::F32, w, 5, w as u64).unwrap();
                let srcf = srcf.as_view().typed::<f32>().unwrap();
                let what = format!("k{k} {w}x5 {border:?}");
                for level in levels() {
                    let got = blur_u8(level, &src.as_view(), p);
                    assert_u8_near_reference(&src.as_view(), &got, &p, &format!("{level} {what}"));
                }
                assert_f32_near_reference(&srcf, p, &what);
            }
        }
    }
}

#[test]
fn integer_box_cascade_on_tiny_and_constant_images() {
    // Windows far larger than the image (reflected many times), every level identical,
    // and a constant image stays constant (each box of a constant is that constant).
    let approx = GaussianParams::new(61, 0.0).with_method(GaussianMethod::Boxes);
    for (w, h) in [(1, 1), (1, 9), (9, 1), (50, 3), (130, 70), (300, 17)] {
        let src = random_u8(w, h, (w * h) as u64).unwrap();
        let want = blur_u8(SimdLevel::Scalar, &src.as_view(), approx);
        for level in levels() {
            assert_eq!(
                blur_u8(level, &src.as_view(), approx),
                want,
                "{level} {w}x{h}"
            );
        }
        for v in [0u8, 1, 254, 255] {
            let flat = Image::<u8>::filled(w, h, v).unwrap();
            assert_eq!(
                blur_u8(SimdLevel::best(), &flat.as_view(), approx),
                flat,
                "{v} {w}x{h}"
            );
        }
    }
}

/// The integer box cascade stage by stage over whole frames, with plain loops: window
/// sums through reflect-101 (any number of reflections), Q8 intermediates, the same f32
/// scaling and ties-to-even rounding as the kernel. Box widths from sigma x and sigma y.
fn int_cascade_reference(src: &Image<u8>, (sx, sy): (f64, f64)) -> Image<u8> {
    let (w, h) = src.size();
    let map = |i: isize, n: usize| Border::Reflect101.map(i, n).unwrap();
    let mut plane: Vec<u32> = src.as_view().rows().flatten().map(|&v| v.into()).collect();
    let (widths_x, widths_y) = (box_widths(sx), box_widths(sy));
    for stage in 0..widths_x.len() {
        let (bx, by) = (widths_x[stage], widths_y[stage]);
        let (rx, ry) = ((bx / 2) as isize, (by / 2) as isize);
        let mut across = vec![0u32; w * h];
        for y in 0..h {
            for x in 0..w {
                across[y * w + x] = (-rx..=rx)
                    .map(|d| plane[y * w + map(x as isize + d, w)])
                    .sum();
            }
        }
        let area = (bx * by) as f32;
        let (scale, max) = match stage {
            0 => (256.0 / area, 65535.0),
            1 => (1.0 / area, 65535.0),
            _ => (1.0 / (256.0 * area), 255.0),
        };
        for y in 0..h {
            for x in 0..w {
                let sum: u32 = (-ry..=ry)
                    .map(|d| across[map(y as isize + d, h) * w + x])
                    .sum();
                plane[y * w + x] = (sum as f32 * scale).round_ties_even().clamp(0.0, max) as u32;
            }
        }
    }
    Image::from_fn(w, h, |x, y| plane[y * w + x] as u8).unwrap()
}

#[test]
fn fused_integer_cascade_equals_the_boxes_one_after_another() {
    // The three boxes run fused through rings of rows, each band computing its own halo
    // of intermediate rows: heights around the rings' lengths (2r + 2), boxes wider than
    // tall and taller than wide, and bands on several threads, including last bands of
    // one to three rows (bands are 8·(r₂ + 2r₃) rows: 40 for sigma 2, 136 for sigma 6).
    let params =
        |sigma| GaussianParams::anisotropic((0, 0), sigma).with_method(GaussianMethod::Boxes);
    for sigma in [(2.0, 2.0), (6.0, 6.0), (2.0, 6.0), (6.0, 2.0)] {
        let mut heights = vec![1, 2, 3, 40];
        for by in box_widths(sigma.1) {
            let r = by / 2;
            heights.extend([2 * r, 2 * r + 1, 2 * r + 2, 2 * r + 3]);
        }
        for &h in &heights {
            for w in [1, 37] {
                let src = random_u8(w, h, (w * 31 + h) as u64).unwrap();
                let want = int_cascade_reference(&src, sigma);
                for level in levels() {
                    let got = blur_u8(level, &src.as_view(), params(sigma));
                    assert!(got == want, "sigma {sigma:?} {level} {w}x{h}");
                }
            }
        }
    }
    for (sigma, (w, h)) in [
        ((2.0, 2.0), (300, 1000)),
        ((6.0, 6.0), (300, 1000)),
        ((6.0, 6.0), (300, 955)),
        ((2.0, 2.0), (1000, 281)),
        ((6.0, 2.0), (1000, 281)),
        ((2.0, 6.0), (300, 955)),
    ] {
        let src = random_u8(w, h, 4).unwrap();
        let want = int_cascade_reference(&src, sigma);
        let mut plan = GaussianBlur::new(params(sigma)).unwrap();
        for threads in [1, 2, 3] {
            let mut out = Image::new(w, h).unwrap();
            pool(threads)
                .install(|| plan.apply_u8(&src.as_view(), &mut out.as_view_mut()))
                .unwrap();
            assert!(out == want, "sigma {sigma:?} {w}x{h}, {threads} threads");
        }
    }
}
