//! Median 3×3 / 5×5 and erosion / dilation against sort- and loop-based references,
//! on every SIMD level, awkward shapes (narrower and shorter than the window), strided
//! views and several thread counts.

mod common;

use common::*;
use frameline::kernels::median::Median;
use frameline::kernels::morphology::{MorphOp, Morphology};
use frameline::testing::random_u8;
use frameline::{Error, Image, ImageView};

/// Median of the k×k window with replicated borders, by sorting.
fn median_reference(src: &ImageView<'_, u8>, k: usize) -> Image<u8> {
    let (w, h) = src.size();
    let r = (k / 2) as isize;
    Image::from_fn(w, h, |x, y| {
        let mut v = Vec::with_capacity(k * k);
        for dy in -r..=r {
            for dx in -r..=r {
                let sx = (x as isize + dx).clamp(0, w as isize - 1) as usize;
                let sy = (y as isize + dy).clamp(0, h as isize - 1) as usize;
                v.push(src.get(sx, sy).unwrap());
            }
        }
        v.sort_unstable();
        v[v.len() / 2]
    })
    .unwrap()
}

/// Min/max over the window; pixels outside the image do not take part.
fn morph_reference(src: &ImageView<'_, u8>, kx: usize, ky: usize, op: MorphOp) -> Image<u8> {
    let (w, h) = src.size();
    Image::from_fn(w, h, |x, y| {
        let mut acc: Option<u8> = None;
        for dy in 0..ky {
            for dx in 0..kx {
                let sx = x as isize + dx as isize - (kx / 2) as isize;
                let sy = y as isize + dy as isize - (ky / 2) as isize;
                if (0..w as isize).contains(&sx) && (0..h as isize).contains(&sy) {
                    let v = src.get(sx as usize, sy as usize).unwrap();
                    acc = Some(match (acc, op) {
                        (None, _) => v,
                        (Some(a), MorphOp::Erode) => a.min(v),
                        (Some(a), MorphOp::Dilate) => a.max(v),
                    });
                }
            }
        }
        acc.unwrap()
    })
    .unwrap()
}

#[test]
fn median_matches_sorting_on_every_level() {
    for k in [3, 5] {
        for &w in &awkward_widths() {
            for h in [1, 2, 3, 4, 5, 9] {
                let src = random_u8(w, h, (w * 3 + h) as u64).unwrap();
                let want = median_reference(&src.as_view(), k);
                for level in levels() {
                    let mut out = Image::<u8>::new(w, h).unwrap();
                    Median::new(k)
                        .unwrap()
                        .apply_at(level, &src.as_view(), &mut out.as_view_mut())
                        .unwrap();
                    let bad: Vec<(usize, usize)> = (0..h)
                        .flat_map(|y| (0..w).map(move |x| (x, y)))
                        .filter(|&(x, y)| out.get(x, y) != want.get(x, y))
                        .take(8)
                        .collect();
                    assert!(bad.is_empty(), "{level} k{k} {w}x{h}: differs at {bad:?}");
                }
            }
        }
    }
    // Every width where the 3×3 row's last blocks fall differently (one or two blocks
    // after the main loop, cut at every offset).
    for w in 126..=262 {
        let src = random_u8(w, 3, w as u64).unwrap();
        let want = median_reference(&src.as_view(), 3);
        for level in levels() {
            let mut out = Image::<u8>::new(w, 3).unwrap();
            Median::new(3)
                .unwrap()
                .apply_at(level, &src.as_view(), &mut out.as_view_mut())
                .unwrap();
            assert!(out == want, "{level} k3 {w}x3");
        }
    }
    assert!(matches!(Median::new(7), Err(Error::BadParam { .. })));
}

#[test]
fn erosion_and_dilation_match_the_definition() {
    for (kx, ky) in [
        (1, 1),
        (3, 3),
        (4, 2),
        (5, 7),
        (17, 17),
        (31, 3),
        (3, 40),
        (70, 70),
        (3, 9),
        (4, 8),
        (1, 65),
        // Around the widths from which the horizontal pass doubles windows (10) and the
        // heights from which the vertical one takes van Herk segments (5); powers of two;
        // elements taller and wider than the image.
        (9, 4),
        (10, 5),
        (11, 6),
        (16, 16),
        (32, 2),
        (64, 13),
        (65, 33),
        (129, 3),
        (2, 150),
        (300, 300),
        // Around the width from which the horizontal pass runs van Herk on transposed
        // rows (64): one row, folded rows, van Herk rows; segments cut by the row's end.
        (63, 1),
        (64, 1),
        (65, 4),
        (66, 5),
        (100, 9),
    ] {
        // (20, 140) with the 70x70 element: more than 64 rows folded into one output row;
        // heights around and past the 32 rows transposed at once.
        for (w, h) in [
            (1, 1),
            (2, 9),
            (9, 2),
            (67, 33),
            (130, 5),
            (20, 140),
            (150, 32),
            (17, 65),
        ] {
            let src = random_u8(w, h, (kx * 100 + w) as u64).unwrap();
            for op in [MorphOp::Erode, MorphOp::Dilate] {
                let want = morph_reference(&src.as_view(), kx, ky, op);
                for level in levels() {
                    let mut out = Image::<u8>::new(w, h).unwrap();
                    Morphology::new((kx, ky))
                        .unwrap()
                        .apply_at(level, op, &src.as_view(), &mut out.as_view_mut())
                        .unwrap();
                    assert_eq!(out, want, "{level} {op:?} k{kx}x{ky} {w}x{h}");
                }
            }
        }
    }
    assert!(Morphology::new((0, 3)).is_err());
}

#[test]
fn opening_removes_specks_and_closing_fills_holes() {
    let mut img = Image::filled(40, 30, 0u8).unwrap();
    img.row_mut(10)[10] = 255; // a speck
    for y in 15..25 {
        for x in 15..35 {
            img.row_mut(y)[x] = 255; // a block with a hole
        }
    }
    img.row_mut(20)[25] = 0;
    let mut m = Morphology::new((3, 3)).unwrap();
    let mut opened = Image::<u8>::new(40, 30).unwrap();
    m.open(&img.as_view(), &mut opened.as_view_mut()).unwrap();
    assert_eq!(opened.get(10, 10), Some(0));
    assert_eq!(opened.get(20, 20), Some(255));
    let mut closed = Image::<u8>::new(40, 30).unwrap();
    m.close(&img.as_view(), &mut closed.as_view_mut()).unwrap();
    assert_eq!(closed.get(25, 20), Some(255));
    assert_eq!(closed.get(10, 10), Some(255));
}

#[test]
fn threads_and_strided_views() {
    let (big, x, y) = embedded_u8(1500, 401, 6);
    let src = big.as_view().sub_view(x, y, 1500, 401).unwrap();
    let run = |threads: usize| {
        pool(threads).install(|| {
            let mut med = Image::<u8>::new(1500, 401).unwrap();
            Median::new(5)
                .unwrap()
                .apply(&src, &mut med.as_view_mut())
                .unwrap();
            let mut er = Image::<u8>::new(1500, 401).unwrap();
            Morphology::new((21, 9))
                .unwrap()
                .erode(&src, &mut er.as_view_mut())
                .unwrap();
            let mut di = Image::<u8>::new(1500, 401).unwrap();
            Morphology::new((4, 12))
                .unwrap()
                .dilate(&src, &mut di.as_view_mut())
                .unwrap();
            // A tall element: van Herk segments in every band.
            let mut tall = Image::<u8>::new(1500, 401).unwrap();
            Morphology::new((3, 70))
                .unwrap()
                .erode(&src, &mut tall.as_view_mut())
                .unwrap();
            // A wide element: 32 rows transposed at a time, in every band.
            let mut wide = Image::<u8>::new(1500, 401).unwrap();
            Morphology::new((99, 7))
                .unwrap()
                .dilate(&src, &mut wide.as_view_mut())
                .unwrap();
            (med, er, di, tall, wide)
        })
    };
    let one = run(1);
    assert_eq!(one.0, median_reference(&src, 5));
    assert_eq!(one.1, morph_reference(&src, 21, 9, MorphOp::Erode));
    assert_eq!(one.2, morph_reference(&src, 4, 12, MorphOp::Dilate));
    assert_eq!(one.3, morph_reference(&src, 3, 70, MorphOp::Erode));
    assert_eq!(one.4, morph_reference(&src, 99, 7, MorphOp::Dilate));
    for threads in [2, 5] {
        assert!(run(threads) == one, "{threads} threads");
    }
}

/// Van Herk segments when the last band is shorter than the element (10 rows, 1 row)
/// and bands on several threads, tall and wide elements; plans reused across sizes
/// (their scratch resized: images shorter and taller than the element, wider and
/// narrower); closing with both new passes; windows 2^m − 1 wide, where the doubling's
/// two windows overlap most.
#[test]
fn tall_and_wide_elements_over_bands_and_sizes() {
    for h in [290, 281] {
        let (big, x, y) = embedded_u8(300, h, h as u64);
        let src = big.as_view().sub_view(x, y, 300, h).unwrap();
        // Tall, and tall and wide (32-row blocks of the horizontal van Herk pass cut by
        // the bands' ends).
        for (kx, ky) in [(5, 70), (90, 40)] {
            for op in [MorphOp::Erode, MorphOp::Dilate] {
                let want = morph_reference(&src, kx, ky, op);
                for threads in [1, 2] {
                    let mut out = Image::<u8>::new(300, h).unwrap();
                    pool(threads).install(|| {
                        Morphology::new((kx, ky))
                            .unwrap()
                            .apply_at(
                                frameline::simd::level().unwrap(),
                                op,
                                &src,
                                &mut out.as_view_mut(),
                            )
                            .unwrap()
                    });
                    assert_eq!(out, want, "{op:?} {kx}x{ky} 300x{h}, {threads} threads");
                }
            }
        }
    }
    // One plan reused across sizes, narrow and wide elements.
    for (kx, ky) in [(15, 70), (80, 70), (80, 3)] {
        let mut plan = Morphology::new((kx, ky)).unwrap();
        for (w, h) in [(20, 3), (130, 140), (9, 2), (67, 71), (300, 240)] {
            let src = random_u8(w, h, (w * h) as u64).unwrap();
            let mut out = Image::<u8>::new(w, h).unwrap();
            plan.erode(&src.as_view(), &mut out.as_view_mut()).unwrap();
            assert_eq!(
                out,
                morph_reference(&src.as_view(), kx, ky, MorphOp::Erode),
                "{kx}x{ky} on {w}x{h}"
            );
        }
    }
    let src = random_u8(150, 60, 11).unwrap();
    for (kx, ky) in [(63, 7), (127, 5), (11, 9)] {
        let mut closed = Image::<u8>::new(150, 60).unwrap();
        Morphology::new((kx, ky))
            .unwrap()
            .close(&src.as_view(), &mut closed.as_view_mut())
            .unwrap();
        let dilated = morph_reference(&src.as_view(), kx, ky, MorphOp::Dilate);
        let want = morph_reference(&dilated.as_view(), kx, ky, MorphOp::Erode);
        assert_eq!(closed, want, "close {kx}x{ky}");
    }
}
