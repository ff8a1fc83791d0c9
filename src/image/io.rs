//! Image files: PNG, PGM (and other PNM), JPEG through the `image` crate; `.npy` through
//! [`super::npy`]. Colour files are converted to gray on load (Rec. 601 luma, as `image`
//! does); 16-bit files stay 16-bit.

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
    let gray: AnyImage = match img {
        DynamicImage::ImageLuma8(b) => Image::try_from(b)?.into(),
        DynamicImage::ImageLuma16(b) => Image::try_from(b)?.into(),
        DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_) => Image::try_from(img.to_luma16())?.into(),
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
            Image::try_from(img.to_luma32f())?.into()
        }
        other => Image::try_from(other.to_luma8())?.into(),
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
    // PNM output must be binary gray (P5), which `image` picks for Luma images.
    dynamic
        .save_with_format(path, format)
        .map_err(|e| encode_err(e.to_string()))
}

fn packed<T: super::Pixel>(v: ImageView<'_, T>) -> Image<T> {
    let pixels: Vec<T> = v.rows().flatten().copied().collect();
    Image::from_vec(pixels, v.width(), v.height()).expect("a valid view packs into a valid image")
}
