//! The constant-time path for large kernels: three successive box filters, whose
//! convolution approaches a Gaussian (central limit theorem). Box widths follow Kovesi
//! ("Fast almost-Gaussian filtering", 2010): the two odd widths around
//! `sqrt(12σ²/3 + 1)`, mixed so the cascade's variance equals σ² as closely as odd
//! widths allow. Each box costs O(1) per pixel (running sums), so the blur's cost does
//! not grow with sigma.
//!
//! Accuracy against the exact Gaussian of the same sigma is measured by the tests and
//! stated in the README: the cascade is a piecewise quadratic, not a Gaussian, so this
//! path trades a little accuracy (about 1% of the kernel's peak) for speed.

use crate::Result;
use crate::image::{Image, ImageView, ImageViewMut};
use crate::kernels::border::Border;
use crate::kernels::boxfilter::BoxFilter;
use crate::simd::SimdLevel;

/// Boxes in the cascade.
pub const BOXES: usize = 3;

/// Odd box widths whose cascade has a variance as close to `sigma²` as possible.
pub fn box_widths(sigma: f64) -> [usize; BOXES] {
    let n = BOXES as f64;
    let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut wl = ideal.floor() as i64;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wl = wl.max(1);
    let wu = wl + 2;
    let (wlf, s2) = (wl as f64, sigma * sigma);
    let m = ((12.0 * s2 - n * wlf * wlf - 4.0 * n * wlf - 3.0 * n) / (-4.0 * wlf - 4.0)).round();
    let m = m.clamp(0.0, n) as usize;
    std::array::from_fn(|i| if i < m { wl as usize } else { wu as usize })
}

/// A reusable cascade for one (sigma x, sigma y); intermediate f32 frames are kept.
#[derive(Debug)]
pub struct BoxCascade {
    boxes: Vec<BoxFilter>,
    tmp: [Option<Image<f32>>; 2],
}

impl BoxCascade {
    pub fn new(sigma: (f64, f64), border: Border) -> Result<Self> {
        let (wx, wy) = (box_widths(sigma.0), box_widths(sigma.1));
        let boxes = (0..BOXES)
            .map(|i| BoxFilter::new((wx[i], wy[i]), border))
            .collect::<Result<Vec<_>>>()?;
        Ok(BoxCascade {
            boxes,
            tmp: [None, None],
        })
    }

    /// The box sizes (x, y) of each stage.
    pub fn widths(&self) -> Vec<(usize, usize)> {
        self.boxes.iter().map(|b| b.ksize()).collect()
    }

    fn tmp(&mut self, size: (usize, usize)) -> Result<[Image<f32>; 2]> {
        let take = |slot: &mut Option<Image<f32>>| -> Result<Image<f32>> {
            match slot.take() {
                Some(img) if img.size() == size => Ok(img),
                _ => Image::new(size.0, size.1),
            }
        };
        Ok([take(&mut self.tmp[0])?, take(&mut self.tmp[1])?])
    }

    pub fn apply_u8(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let [mut a, mut b] = self.tmp(src.size())?;
        let result = (|| {
            self.boxes[0].mean_u8_to_f32_at(level, src, &mut a.as_view_mut())?;
            self.boxes[1].apply_f32_at(level, &a.as_view(), &mut b.as_view_mut(), true)?;
            self.boxes[2].mean_f32_to_u8_at(level, &b.as_view(), dst)
        })();
        self.tmp = [Some(a), Some(b)];
        result
    }

    pub fn apply_f32(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        let [mut a, mut b] = self.tmp(src.size())?;
        let result = (|| {
            self.boxes[0].apply_f32_at(level, src, &mut a.as_view_mut(), true)?;
            self.boxes[1].apply_f32_at(level, &a.as_view(), &mut b.as_view_mut(), true)?;
            self.boxes[2].apply_f32_at(level, &b.as_view(), dst, true)
        })();
        self.tmp = [Some(a), Some(b)];
        result
    }
}
