//! Image files: PNG, PGM (and other PNM), JPEG through the `image` crate; `.npy` through
//! [`super::npy`]. Colour files are converted to gray on load (Rec. 601 luma, as `image`
//! does); 16-bit files stay 16-bit. Loaded images have 64-byte aligned rows. Note: the
//! `image` crate rescales PGM files whose maxval is not 255 or 65535 to the full range;
//! use `.npy` to exchange raw sample values.

use std::path::Path;

use image::{DynamicImage, ImageFormat};

use super::{AnyImage, AnyView, Image, ImageView, npy};
use crate::{Error, Result};

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Loads an image file as a single-channel image of its natural type.
pub fn load(path: impl AsRef<Path>) -> Result<AnyImage> {
    let path = path.as_ref();
    if is_npy(path) {
        return npy::read(path);
    }
    let decode_err = |e: image::ImageError| Error::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| Error::io(path, e))?
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    let img = reader.decode().map_err(decode_err)?;
    // Decoded buffers are packed; copy into aligned rows for the kernels.
    let gray: AnyImage = match img {
        DynamicImage::ImageLuma8(b) => ImageView::try_from(&b)?.to_image().into(),
        DynamicImage::ImageLuma16(b) => ImageView::try_from(&b)?.to_image().into(),
        DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_) => ImageView::try_from(&img.to_luma16())?.to_image().into(),
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
            ImageView::try_from(&img.to_luma32f())?.to_image().into()
        }
        other => ImageView::try_from(&other.to_luma8())?.to_image().into(),
    };
    Ok(gray)
}

/// Saves an image; the format follows the extension: `.npy` (any type), `.png` and
/// `.pgm` (u8, u16), `.jpg`/`.jpeg` (u8).
pub fn save(path: impl AsRef<Path>, img: AnyView<'_>) -> Result<()> {
    let path = path.as_ref();
    if is_npy(path) {
        return npy::write(path, img);
    }
    let encode_err = |reason: String| Error::Encode {
        path: path.to_path_buf(),
        reason,
    };
    let format = ImageFormat::from_path(path).map_err(|e| encode_err(e.to_string()))?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Pnm | ImageFormat::Jpeg
    ) {
        return Err(encode_err(format!(
            "unsupported output format {format:?} (use .png, .pgm, .jpg or .npy)"
        )));
    }
    if format == ImageFormat::Pnm {
        // `image` would write PAM (P7) and has no 16-bit graymap; other tools expect P5.
        let bytes = encode_pgm(img).map_err(encode_err)?;
        return std::fs::write(path, bytes).map_err(|e| Error::io(path, e));
    }
    let dynamic = match img {
        AnyView::U8(v) => DynamicImage::ImageLuma8(packed(v).into_luma_buffer()?),
        AnyView::U16(v) if format != ImageFormat::Jpeg => {
            DynamicImage::ImageLuma16(packed(v).into_luma_buffer()?)
        }
        other => {
            return Err(encode_err(format!(
                "{} images cannot be stored as {format:?}; use .npy",
                other.dtype()
            )));
        }
    };
    dynamic
        .save_with_format(path, format)
        .map_err(|e| encode_err(e.to_string()))
}

fn packed<T: super::Pixel>(v: ImageView<'_, T>) -> Image<T> {
    let pixels: Vec<T> = v.rows().flatten().copied().collect();
    Image::from_vec(pixels, v.width(), v.height()).expect("a valid view packs into a valid image")
}

/// A binary graymap (P5): 8-bit, or 16-bit big-endian with maxval 65535.
fn encode_pgm(img: AnyView<'_>) -> std::result::Result<Vec<u8>, String> {
    let (w, h) = img.size();
    let mut out = Vec::new();
    match img {
        AnyView::U8(v) => {
            out.extend(format!("P5\n{w} {h}\n255\n").bytes());
            v.rows().for_each(|r| out.extend_from_slice(r));
        }
        AnyView::U16(v) => {
            out.extend(format!("P5\n{w} {h}\n65535\n").bytes());
            v.rows().flatten().for_each(|p| out.extend(p.to_be_bytes()));
        }
        other => {
            return Err(format!(
                "{} images cannot be stored as PGM; use .npy",
                other.dtype()
            ));
        }
    }
    Ok(out)
}
