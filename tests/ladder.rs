//! The ladder's tiers agree with each other; the float tiers are exact for gamma 0.5.

mod common;

use frameline::Image;
use frameline::SimdLevel;
use frameline::kernels::gamma::{RowScratch, gamma_naive, gamma_row_float};
use frameline::kernels::lut::{Lut, apply_lut_at};
use frameline::ladder::{LadderConfig, run_ladder};

#[test]
fn float_tiers_equal_the_lut_for_all_256_values() {
    let src = Image::from_fn(256, 2, |x, _| x as u8).unwrap();
    for gamma in [0.5, 1.0, 2.0] {
        let lut = Lut::gamma(gamma).unwrap();
        let mut naive = Image::<u8>::new(256, 2).unwrap();
        let mut row = Image::<u8>::new(256, 2).unwrap();
        gamma_naive(&src.as_view(), &mut naive.as_view_mut(), gamma).unwrap();
        gamma_row_float(
            &src.as_view(),
            &mut row.as_view_mut(),
            gamma,
            &mut RowScratch::default(),
        )
        .unwrap();
        for x in 0..256 {
            assert_eq!(
                naive.get(x, 1).unwrap(),
                lut.table()[x],
                "naive gamma {gamma} v {x}"
            );
            assert_eq!(
                row.get(x, 1).unwrap(),
                lut.table()[x],
                "row gamma {gamma} v {x}"
            );
        }
    }
}

#[test]
fn ladder_runs_every_tier_and_checks_them() {
    let cfg = LadderConfig {
        width: 97,
        height: 13,
        gamma: 0.5,
        warmup: 0,
        repeats: 1,
        threads: 2,
        simd: SimdLevel::best(),
    };
    let report = run_ladder(&cfg).unwrap();
    assert_eq!(report.tiers.len(), 5);
    assert_eq!(report.tiers[4].threads, 2);
    assert_eq!(report.tiers[3].simd, SimdLevel::best());
    assert!(report.tiers.iter().all(|t| t.timing.median_ms >= 0.0));
}

#[test]
fn gamma_kernels_reject_bad_input() {
    let src = Image::<u8>::new(4, 4).unwrap();
    let mut small = Image::<u8>::new(4, 3).unwrap();
    assert!(gamma_naive(&src.as_view(), &mut small.as_view_mut(), 0.5).is_err());
    let mut ok = Image::<u8>::new(4, 4).unwrap();
    assert!(gamma_naive(&src.as_view(), &mut ok.as_view_mut(), -0.5).is_err());
    assert!(
        gamma_row_float(
            &src.as_view(),
            &mut ok.as_view_mut(),
            f64::NAN,
            &mut RowScratch::default()
        )
        .is_err()
    );
    assert!(
        apply_lut_at(
            SimdLevel::Scalar,
            &src.as_view(),
            &mut small.as_view_mut(),
            &Lut::identity()
        )
        .is_err()
    );
}
