//! Row EMA bit-identical to its sequential reference on every level, thread count and
//! awkward shape; Floyd–Steinberg identical to a straightforward reference.

mod common;

use common::*;
use frameline::kernels::dither::Dither;
use frameline::kernels::scan::{row_ema, row_ema_at, row_ema_reference};
use frameline::testing::{random_image, random_u8};
use frameline::{DType, Error, Image};

#[test]
fn row_ema_matches_the_reference_exactly() {
    for &w in &awkward_widths() {
        for h in [1, 5, 16, 17, 40] {
            let img = random_image(DType::F32, w, h, (w * h) as u64).unwrap();
            let src = img.as_view().typed::<f32>().unwrap();
            for alpha in [0.1f32, 0.5, 1.0, 0.0] {
                let mut want = vec![0.0f32; w];
                for level in levels() {
                    let mut out = Image::<f32>::new(w, h).unwrap();
                    row_ema_at(level, &src, &mut out.as_view_mut(), alpha).unwrap();
                    for y in 0..h {
                        row_ema_reference(src.row(y), alpha, &mut want);
                        assert_eq!(
                            out.row(y),
                            &want[..],
                            "{level} {w}x{h} alpha {alpha} row {y}"
                        );
                    }
                }
            }
        }
    }
    // Outputs of 16 MiB and more take streaming stores where a row's vectors are
    // aligned: a whole frame of them, and one written into a view one column in (no
    // aligned vector, plain stores), both exact on every level.
    let (w, h) = (2050, 2051);
    let img = random_image(DType::F32, w + 1, h, 9).unwrap();
    let src = img
        .as_view()
        .typed::<f32>()
        .unwrap()
        .sub_view(1, 0, w, h)
        .unwrap();
    let mut want = Image::<f32>::new(w, h).unwrap();
    for (y, row) in want.as_view_mut().rows_mut().enumerate() {
        row_ema_reference(src.row(y), 0.3, row);
    }
    for level in levels() {
        let mut out = Image::<f32>::new(w, h).unwrap();
        row_ema_at(level, &src, &mut out.as_view_mut(), 0.3).unwrap();
        assert!(out == want, "{level} whole frame");
        let mut big = Image::<f32>::new(w + 1, h).unwrap();
        let mut view = big.as_view_mut();
        let mut out = view.sub_view_mut(1, 0, w, h).unwrap();
        row_ema_at(level, &src, &mut out, 0.3).unwrap();
        assert!(
            out.as_view().to_image() == want,
            "{level} view one column in"
        );
    }
    let img = random_image(DType::F32, 700, 333, 1).unwrap();
    let src = img.as_view().typed::<f32>().unwrap();
    let mut one = Image::<f32>::new(700, 333).unwrap();
    let mut many = Image::<f32>::new(700, 333).unwrap();
    pool(1)
        .install(|| row_ema(&src, &mut one.as_view_mut(), 0.1))
        .unwrap();
    pool(3)
        .install(|| row_ema(&src, &mut many.as_view_mut(), 0.1))
        .unwrap();
    assert_eq!(one, many);
    assert!(matches!(
        row_ema(&src, &mut many.as_view_mut(), 1.5),
        Err(Error::BadParam { .. })
    ));
}

/// The definition, written out with a full error image.
fn dither_reference(src: &Image<u8>, serpentine: bool) -> Image<u8> {
    let (w, h) = src.size();
    let mut acc = vec![vec![0i32; w + 2]; h + 1];
    let mut out = Image::<u8>::new(w, h).unwrap();
    for y in 0..h {
        let backwards = serpentine && y % 2 == 1;
        let xs: Vec<usize> = if backwards {
            (0..w).rev().collect()
        } else {
            (0..w).collect()
        };
        for x in xs {
            let value = i32::from(src.get(x, y).unwrap()) + ((acc[y][x + 1] + 8) >> 4);
            let o = if value >= 128 { 255 } else { 0 };
            out.row_mut(y)[x] = o as u8;
            let err = value - o;
            let (ahead, behind) = if backwards { (x, x + 2) } else { (x + 2, x) };
            acc[y][ahead] += 7 * err;
            acc[y + 1][behind] += 3 * err;
            acc[y + 1][x + 1] += 5 * err;
            acc[y + 1][ahead] += err;
        }
    }
    out
}

#[test]
fn dithering_matches_the_reference() {
    // Heights around the wavefronts' row counts (16 on every SIMD level, 4 in the scalar
    // code, single rows after them), widths shorter and longer than a wavefront's lag
    // (8 and 9: the scalar wavefront without and with one inner step), every SIMD
    // level, one plan reused across all of them.
    let levels = levels();
    let mut widths = awkward_widths();
    widths.extend([8, 9]);
    let mut plan = Dither::new();
    for &w in &widths {
        for h in [1, 3, 4, 5, 9, 15, 16, 17, 20, 33, 37] {
            let src = random_u8(w, h, (w * 100 + h) as u64).unwrap();
            for serpentine in [false, true] {
                let want = dither_reference(&src, serpentine);
                for &level in &levels {
                    let mut out = Image::<u8>::new(w, h).unwrap();
                    plan.apply_at(level, &src.as_view(), &mut out.as_view_mut(), serpentine)
                        .unwrap();
                    assert!(out == want, "{level} {w}x{h} serpentine {serpentine}");
                }
            }
        }
    }
    // Strided views in and out (37 rows: a lane wavefront, then the scalar one, then
    // single rows), both scan orders, and saturated inputs (errors at their extremes).
    let big = random_u8(301, 40, 5).unwrap();
    let src = big.as_view().sub_view(3, 2, 290, 37).unwrap();
    for fill in [None, Some(0u8), Some(255), Some(127), Some(128)] {
        let filled;
        let src = match fill {
            None => src,
            Some(v) => {
                filled = Image::filled(290, 37, v).unwrap();
                filled.as_view()
            }
        };
        for serpentine in [false, true] {
            let want = dither_reference(&src.to_image(), serpentine);
            assert!(want.as_view().rows().flatten().all(|&v| v == 0 || v == 255));
            for &level in &levels {
                let mut big_out = Image::<u8>::new(300, 40).unwrap();
                let mut view = big_out.as_view_mut();
                let mut out = view.sub_view_mut(5, 1, 290, 37).unwrap();
                plan.apply_at(level, &src, &mut out, serpentine).unwrap();
                assert!(
                    out.as_view().to_image() == want,
                    "{level} fill {fill:?} serpentine {serpentine}"
                );
                assert!(
                    big_out.row(0).iter().all(|&v| v == 0),
                    "{level}: wrote outside the view"
                );
            }
        }
    }
    // Mean gray is preserved on a flat field.
    let flat = Image::filled(200, 200, 64u8).unwrap();
    let mut out = Image::<u8>::new(200, 200).unwrap();
    plan.apply(&flat.as_view(), &mut out.as_view_mut(), true)
        .unwrap();
    let mean = out
        .as_view()
        .rows()
        .flatten()
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / 40_000.0;
    assert!((mean - 64.0).abs() < 1.0, "{mean}");
    let mut small = Image::<u8>::new(200, 199).unwrap();
    assert!(matches!(
        plan.apply(&flat.as_view(), &mut small.as_view_mut(), false),
        Err(Error::SizeMismatch { .. })
    ));
}
