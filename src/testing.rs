//! Deterministic pseudo-random images, shared by tests, `frameline bench` and the
//! criterion benches so that all of them measure the same frames.

use crate::Result;
use crate::image::{AnyImage, DType, Image};

/// SplitMix64: tiny, fast, and good enough for test pixels; same sequence everywhere.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// A random u8 image: every value 0..=255 equally likely.
pub fn random_u8(width: usize, height: usize, seed: u64) -> Result<Image<u8>> {
    match random_image(DType::U8, width, height, seed)? {
        AnyImage::U8(img) => Ok(img),
        _ => unreachable!("random_image(U8) is a u8 image"),
    }
}

/// A random image of any dtype: u8/u16/u32/i32 use their full range, f32 and f64 are
/// uniform in `[0, 255)` (the range of converted 8-bit frames).
pub fn random_image(dtype: DType, width: usize, height: usize, seed: u64) -> Result<AnyImage> {
    let mut rng = SplitMix64::new(seed);
    Ok(match dtype {
        DType::U8 => Image::from_fn(width, height, |_, _| rng.next_u64() as u8)?.into(),
        DType::U16 => Image::from_fn(width, height, |_, _| rng.next_u64() as u16)?.into(),
        DType::U32 => Image::from_fn(width, height, |_, _| rng.next_u64() as u32)?.into(),
        DType::I32 => Image::from_fn(width, height, |_, _| rng.next_u64() as i32)?.into(),
        DType::F32 => Image::from_fn(width, height, |_, _| (rng.next_f64() * 255.0) as f32)?.into(),
        DType::F64 => Image::from_fn(width, height, |_, _| rng.next_f64() * 255.0)?.into(),
    })
}

/// A realistic binary test frame: seeded noise, box-blurred over `blur`×`blur`, then
/// thresholded at its mean (255 above, 0 below): blobs of many shapes and sizes, with
/// holes and touching diagonals, like thresholded inspection images.
pub fn random_blobs(width: usize, height: usize, blur: usize, seed: u64) -> Result<Image<u8>> {
    use crate::kernels::border::Border;
    use crate::kernels::boxfilter::BoxFilter;
    let noise = random_u8(width, height, seed)?;
    let mut smooth = Image::<u8>::new(width, height)?;
    BoxFilter::new((blur, blur), Border::Reflect101)?
        .mean_u8(&noise.as_view(), &mut smooth.as_view_mut())?;
    let n = (width * height) as u64;
    let mean = smooth
        .as_view()
        .rows()
        .flatten()
        .map(|&v| u64::from(v))
        .sum::<u64>()
        / n;
    let mut out = Image::<u8>::new(width, height)?;
    for (o, s) in out.as_view_mut().rows_mut().zip(smooth.as_view().rows()) {
        for (o, &s) in o.iter_mut().zip(s) {
            *o = if u64::from(s) > mean { 255 } else { 0 };
        }
    }
    Ok(out)
}
