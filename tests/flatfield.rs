//! Flat-field correction against float64 references, on every SIMD level; dead pixels;
//! averaged calibration frames; size errors.

mod common;

use common::*;
use frameline::kernels::flatfield::FlatField;
use frameline::testing::random_u8;
use frameline::{Error, Image};

#[test]
fn corrections_match_float_references() {
    for &w in &awkward_widths() {
        let h = 7;
        let dark = Image::from_fn(w, h, |x, y| 5.0 + ((x * 3 + y) % 11) as f32 + 0.37).unwrap();
        let flat = Image::from_fn(w, h, |x, y| {
            if (x + y) % 13 == 5 {
                3.0
            } else {
                120.0 + ((x * 7 + y * 5) % 120) as f32 + 0.5
            }
        })
        .unwrap();
        let ff = FlatField::from_means(&dark.as_view(), &flat.as_view()).unwrap();
        let raw = random_u8(w, h, w as u64).unwrap();
        let mut want_f = Image::<f32>::new(w, h).unwrap();
        let mut want_u = Image::<u8>::new(w, h).unwrap();
        for level in levels() {
            let mut out = Image::<f32>::new(w, h).unwrap();
            ff.apply_f32_at(level, &raw.as_view(), &mut out.as_view_mut())
                .unwrap();
            let mut out8 = Image::<u8>::new(w, h).unwrap();
            ff.apply_u8_at(level, &raw.as_view(), &mut out8.as_view_mut())
                .unwrap();
            for y in 0..h {
                for x in 0..w {
                    let (d, f, r) = (
                        f64::from(dark.get(x, y).unwrap()),
                        f64::from(flat.get(x, y).unwrap()),
                        f64::from(raw.get(x, y).unwrap()),
                    );
                    let got = f64::from(out.get(x, y).unwrap());
                    let got8 = out8.get(x, y).unwrap();
                    if f <= d || (f - d) * 16.0 < f64::from(ff.mean_range()) * (1.0 - 1e-6) {
                        assert_eq!((got, got8), (0.0, 0), "dead pixel reads 0");
                        continue;
                    }
                    let ratio = (r - d) / (f - d);
                    assert!(
                        (got - ratio).abs() <= 1e-3 * ratio.abs().max(1.0) + 2e-3,
                        "{level} ({x},{y}): {got} vs {ratio}"
                    );
                    let scaled = ((r - d) * f64::from(ff.mean_range()) / (f - d)).clamp(0.0, 255.0);
                    assert!(
                        (f64::from(got8) - scaled).abs() <= 1.0,
                        "{level} u8 ({x},{y}): {got8} vs {scaled:.2}"
                    );
                }
            }
            if level == levels()[0] {
                (want_f, want_u) = (out, out8);
            } else {
                assert_eq!(
                    (&out, &out8),
                    (&want_f, &want_u),
                    "{level}: identical to scalar"
                );
            }
        }
    }
}

#[test]
fn weak_pixels_are_dead_not_wrong() {
    // Dark 10 everywhere; one pixel responds with 1 gray level against a mean near 200.
    let dark = Image::filled(8, 2, 10.0f32).unwrap();
    let flat = Image::from_fn(8, 2, |x, y| if (x, y) == (3, 1) { 11.0 } else { 210.0 }).unwrap();
    let ff = FlatField::from_means(&dark.as_view(), &flat.as_view()).unwrap();
    let raw = Image::filled(8, 2, 111u8).unwrap();
    let mut out = Image::<f32>::new(8, 2).unwrap();
    ff.apply_f32(&raw.as_view(), &mut out.as_view_mut())
        .unwrap();
    assert_eq!(out.get(3, 1), Some(0.0));
    assert!((out.get(0, 0).unwrap() - 0.505).abs() < 1e-3);
}

#[test]
fn calibration_from_frames_and_errors() {
    let d1 = Image::filled(8, 4, 10u8).unwrap();
    let d2 = Image::filled(8, 4, 12u8).unwrap();
    let f1 = Image::filled(8, 4, 200u8).unwrap();
    let ff = FlatField::from_frames(&[d1.as_view(), d2.as_view()], &[f1.as_view()]).unwrap();
    assert_eq!(ff.mean_range(), 189.0);
    let raw = Image::filled(8, 4, 200u8).unwrap();
    let mut out = Image::<f32>::new(8, 4).unwrap();
    ff.apply_f32(&raw.as_view(), &mut out.as_view_mut())
        .unwrap();
    assert!((out.get(3, 2).unwrap() - 1.0).abs() < 1e-3);
    // Errors: no frames, mismatched sizes, nothing responding, wrong raw size.
    assert!(matches!(
        FlatField::from_frames(&[], &[f1.as_view()]),
        Err(Error::BadParam { .. })
    ));
    let small = Image::filled(7, 4, 10u8).unwrap();
    assert!(matches!(
        FlatField::from_frames(&[d1.as_view(), small.as_view()], &[f1.as_view()]),
        Err(Error::SizeMismatch { .. })
    ));
    assert!(matches!(
        FlatField::from_frames(&[f1.as_view()], &[d1.as_view()]),
        Err(Error::BadParam { .. })
    ));
    let raw_small = Image::<u8>::new(7, 4).unwrap();
    let mut out_small = Image::<f32>::new(7, 4).unwrap();
    assert!(matches!(
        ff.apply_f32(&raw_small.as_view(), &mut out_small.as_view_mut()),
        Err(Error::SizeMismatch { .. })
    ));
    let mut out_wrong = Image::<u8>::new(8, 3).unwrap();
    assert!(matches!(
        ff.apply_u8(&raw.as_view(), &mut out_wrong.as_view_mut()),
        Err(Error::SizeMismatch { .. })
    ));
}

#[test]
fn threads_give_identical_output() {
    let ff = FlatField::synthetic(1003, 611).unwrap();
    let raw = random_u8(1003, 611, 3).unwrap();
    let run = |threads: usize| {
        pool(threads).install(|| {
            let mut f = Image::<f32>::new(1003, 611).unwrap();
            ff.apply_f32(&raw.as_view(), &mut f.as_view_mut()).unwrap();
            let mut u = Image::<u8>::new(1003, 611).unwrap();
            ff.apply_u8(&raw.as_view(), &mut u.as_view_mut()).unwrap();
            (f, u)
        })
    };
    let one = run(1);
    assert!(run(3) == one);
}

#[test]
fn streaming_stores_give_identical_output() {
    // Every alignment of the output row (sub-views at offsets 0..16), awkward widths,
    // every level: streaming stores write exactly what cached stores write.
    use frameline::kernels::flatfield::Stores;
    for &w in &awkward_widths() {
        let h = 3;
        let ff = FlatField::synthetic(w, h).unwrap();
        let raw = random_u8(w, h, 7 + w as u64).unwrap();
        for level in levels() {
            let mut want = Image::<f32>::new(w, h).unwrap();
            ff.apply_f32_with(
                level,
                Stores::Cached,
                &raw.as_view(),
                &mut want.as_view_mut(),
            )
            .unwrap();
            for offset in [0, 1, 3, 8, 15] {
                let mut big = Image::<f32>::new(w + 16, h).unwrap();
                let mut whole = big.as_view_mut();
                let mut view = whole.sub_view_mut(offset, 0, w, h).unwrap();
                ff.apply_f32_with(level, Stores::Streaming, &raw.as_view(), &mut view)
                    .unwrap();
                for y in 0..h {
                    assert_eq!(
                        &big.row(y)[offset..offset + w],
                        want.row(y),
                        "{level} width {w} offset {offset}"
                    );
                }
            }
        }
    }
}
