//! LUT kernels: every SIMD level against the scalar reference, exhaustively over all
//! 256 input values, on awkward shapes and strided views; threads == one thread.

mod common;

use common::*;
use frameline::kernels::lut::{Lut, apply_lut, apply_lut_at};
use frameline::testing::{SplitMix64, random_u8};
use frameline::{Error, Image, ImageView, SimdLevel};

fn random_lut(seed: u64) -> Lut {
    let mut rng = SplitMix64::new(seed);
    Lut::from_fn(|_| rng.next_u64() as u8)
}

fn tables() -> Vec<Lut> {
    vec![
        Lut::gamma(0.5).unwrap(),
        Lut::gamma(2.2).unwrap(),
        Lut::invert(),
        Lut::identity(),
        Lut::threshold(100),
        Lut::brightness_contrast(-20.0, 1.7).unwrap(),
        random_lut(1),
        random_lut(2),
    ]
}

/// Every value 0..=255 in every position modulo 256 of a row, on several widths.
#[test]
fn every_level_maps_all_256_values_exactly() {
    for level in levels() {
        for lut in tables() {
            for width in [256, 255, 257, 1000] {
                let src = Image::from_fn(width, 3, |x, y| ((x * 7 + y * 3) % 256) as u8).unwrap();
                let mut dst = Image::<u8>::new(width, 3).unwrap();
                apply_lut_at(level, &src.as_view(), &mut dst.as_view_mut(), &lut).unwrap();
                for y in 0..3 {
                    for x in 0..width {
                        let v = src.get(x, y).unwrap();
                        assert_eq!(
                            dst.get(x, y).unwrap(),
                            lut.table()[v as usize],
                            "{level} width {width} at ({x},{y}) value {v}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_level_matches_scalar_on_awkward_shapes() {
    let lut = random_lut(7);
    for level in levels() {
        for &w in &awkward_widths() {
            for h in AWKWARD_HEIGHTS {
                let src = random_u8(w, h, (w * 31 + h) as u64).unwrap();
                let mut want = Image::<u8>::new(w, h).unwrap();
                let mut got = Image::<u8>::new(w, h).unwrap();
                apply_lut_at(
                    SimdLevel::Scalar,
                    &src.as_view(),
                    &mut want.as_view_mut(),
                    &lut,
                )
                .unwrap();
                apply_lut_at(level, &src.as_view(), &mut got.as_view_mut(), &lut).unwrap();
                assert_eq!(got, want, "{level} {w}x{h}");
            }
        }
    }
}

#[test]
fn strided_views_in_and_out_leave_surroundings_untouched() {
    let lut = random_lut(9);
    for level in levels() {
        for &w in &awkward_widths() {
            let h = 5;
            let (big_src, sx, sy) = embedded_u8(w, h, w as u64);
            let src = big_src.as_view().sub_view(sx, sy, w, h).unwrap();
            assert!(src.stride() > w);
            let mut big_dst = Image::filled(w + 9, h + 4, 77u8).unwrap();
            {
                let mut dst = big_dst.as_view_mut();
                let mut dst = dst.sub_view_mut(4, 2, w, h).unwrap();
                apply_lut_at(level, &src, &mut dst, &lut).unwrap();
            }
            for y in 0..h + 4 {
                for x in 0..w + 9 {
                    let inside = (4..4 + w).contains(&x) && (2..2 + h).contains(&y);
                    let want = if inside {
                        lut.table()[src.get(x - 4, y - 2).unwrap() as usize]
                    } else {
                        77
                    };
                    assert_eq!(
                        big_dst.get(x, y).unwrap(),
                        want,
                        "{level} w {w} at ({x},{y})"
                    );
                }
            }
        }
    }
}

#[test]
fn one_by_one_image() {
    for level in levels() {
        let src = Image::filled(1, 1, 200u8).unwrap();
        let mut dst = Image::<u8>::new(1, 1).unwrap();
        apply_lut_at(
            level,
            &src.as_view(),
            &mut dst.as_view_mut(),
            &Lut::invert(),
        )
        .unwrap();
        assert_eq!(dst.get(0, 0), Some(55));
    }
}

#[test]
fn threads_give_the_same_output_as_one_thread() {
    let lut = random_lut(11);
    // Large enough to be split into bands; odd height so bands are uneven.
    let src = random_u8(1921, 1081, 5).unwrap();
    let mut one = Image::<u8>::new(1921, 1081).unwrap();
    let mut many = Image::<u8>::new(1921, 1081).unwrap();
    pool(1)
        .install(|| apply_lut(&src.as_view(), &mut one.as_view_mut(), &lut))
        .unwrap();
    pool(4)
        .install(|| apply_lut(&src.as_view(), &mut many.as_view_mut(), &lut))
        .unwrap();
    assert_eq!(one, many);
    for (x, y) in [(0, 0), (1920, 1080), (777, 555)] {
        assert_eq!(
            one.get(x, y).unwrap(),
            lut.table()[src.get(x, y).unwrap() as usize]
        );
    }
}

#[test]
fn mismatched_sizes_are_an_error() {
    let src = Image::<u8>::new(10, 10).unwrap();
    let mut dst = Image::<u8>::new(10, 9).unwrap();
    let err = apply_lut(&src.as_view(), &mut dst.as_view_mut(), &Lut::identity()).unwrap_err();
    assert!(matches!(err, Error::SizeMismatch { .. }), "{err}");
}

#[test]
fn a_level_the_cpu_lacks_is_an_error_not_ub() {
    let missing = if cfg!(target_arch = "x86_64") {
        SimdLevel::Neon
    } else {
        SimdLevel::Avx2
    };
    let src = Image::<u8>::new(4, 4).unwrap();
    let mut dst = Image::<u8>::new(4, 4).unwrap();
    let err = apply_lut_at(
        missing,
        &src.as_view(),
        &mut dst.as_view_mut(),
        &Lut::identity(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::SimdUnavailable { .. }), "{err}");
    assert!(frameline::simd::force_level(missing).is_err());
}

#[test]
fn table_builders() {
    let g = Lut::gamma(0.5).unwrap();
    assert_eq!(g.table()[0], 0);
    assert_eq!(g.table()[255], 255);
    assert_eq!(
        g.table()[64],
        (255.0f64 * (64.0f64 / 255.0).sqrt()).round() as u8
    );
    assert_eq!(Lut::invert().table()[10], 245);
    let t = Lut::threshold(100);
    assert_eq!((t.table()[100], t.table()[101]), (0, 255));
    let bc = Lut::brightness_contrast(10.0, 2.0).unwrap();
    assert_eq!(
        (bc.table()[0], bc.table()[50], bc.table()[200]),
        (10, 110, 255)
    );
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(Lut::gamma(bad), Err(Error::BadParam { .. })),
            "{bad}"
        );
    }
    assert!(Lut::brightness_contrast(f64::NAN, 1.0).is_err());
}

#[test]
fn views_from_slices_work_with_kernels() {
    let data: Vec<u8> = (0..=255).collect();
    let src = ImageView::from_slice(&data, 16, 16).unwrap();
    let mut out = vec![0u8; 256];
    let mut dst = frameline::ImageViewMut::from_slice(&mut out, 16, 16).unwrap();
    apply_lut(&src, &mut dst, &Lut::invert()).unwrap();
    assert!(out.iter().enumerate().all(|(i, &v)| v == 255 - i as u8));
}
