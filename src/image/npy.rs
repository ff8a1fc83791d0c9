//! NumPy `.npy` files (format versions 1, 2 and 3) for 2-D arrays of u8, u16, f32, i32,
//! u32 and f64, so arrays move between frameline and Python tools without loss.
//!
//! Read: C order, shape `(h, w)` or `(h, w, 1)`, either byte order. Written: version 1,
//! little-endian, C order, shape `(h, w)`, header padded to 64 bytes as NumPy does.

use std::path::Path;

use super::{AnyImage, AnyView, DType, Image, Pixel};
use crate::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a `.npy` file.
pub fn read(path: impl AsRef<Path>) -> Result<AnyImage> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes).map_err(|reason| Error::Decode {
        path: path.to_path_buf(),
        reason,
    })
}

/// Writes a `.npy` file.
pub fn write(path: impl AsRef<Path>, img: AnyView<'_>) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, encode(img)).map_err(|e| Error::io(path, e))
}

/// The complete file contents for `img`.
pub fn encode(img: AnyView<'_>) -> Vec<u8> {
    let (w, h) = img.size();
    let dtype = img.dtype();
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({h}, {w}), }}",
        descr(dtype)
    );
    // magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.extend(std::iter::repeat_n(
        ' ',
        unpadded.next_multiple_of(64) - unpadded,
    ));
    header.push('\n');

    let mut out = Vec::with_capacity(10 + header.len() + w * h * dtype.size());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match img {
        AnyView::U8(v) => v.rows().for_each(|r| out.extend_from_slice(r)),
        AnyView::U16(v) => v.rows().flatten().for_each(|p| out.extend(p.to_le_bytes())),
        AnyView::F32(v) => v.rows().flatten().for_each(|p| out.extend(p.to_le_bytes())),
        AnyView::I32(v) => v.rows().flatten().for_each(|p| out.extend(p.to_le_bytes())),
        AnyView::U32(v) => v.rows().flatten().for_each(|p| out.extend(p.to_le_bytes())),
        AnyView::F64(v) => v.rows().flatten().for_each(|p| out.extend(p.to_le_bytes())),
    }
    out
}

fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::U8 => "|u1",
        DType::U16 => "<u2",
        DType::F32 => "<f4",
        DType::I32 => "<i4",
        DType::U32 => "<u4",
        DType::F64 => "<f8",
    }
}

/// Parses complete file contents. Errors are plain reasons; [`read`] adds the path.
pub fn decode(bytes: &[u8]) -> Result<AnyImage, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic)".into());
    }
    let (header_len, header_start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        2 | 3 => return Err("truncated header".into()),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or("truncated header")?;
    let header =
        std::str::from_utf8(&bytes[header_start..data_start]).map_err(|_| "header is not text")?;
    let header = Header::parse(header)?;
    let (height, width) = header.shape;
    let dtype = header.dtype;
    let n = width
        .checked_mul(height)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad shape {height}x{width}"))?;
    let need = n.checked_mul(dtype.size()).ok_or("shape too large")?;
    let data = &bytes[data_start..];
    if data.len() < need {
        return Err(format!(
            "truncated data: {} bytes for a {height}x{width} {dtype} array that needs {need}",
            data.len()
        ));
    }
    let data = &data[..need];
    let big = header.big_endian;
    let img = match dtype {
        DType::U8 => typed(data, width, height, |b: [u8; 1]| b[0]),
        DType::U16 => typed(data, width, height, |b| {
            ne(big, b, u16::from_le_bytes, u16::from_be_bytes)
        }),
        DType::F32 => typed(data, width, height, |b| {
            ne(big, b, f32::from_le_bytes, f32::from_be_bytes)
        }),
        DType::I32 => typed(data, width, height, |b| {
            ne(big, b, i32::from_le_bytes, i32::from_be_bytes)
        }),
        DType::U32 => typed(data, width, height, |b| {
            ne(big, b, u32::from_le_bytes, u32::from_be_bytes)
        }),
        DType::F64 => typed(data, width, height, |b| {
            ne(big, b, f64::from_le_bytes, f64::from_be_bytes)
        }),
    };
    img.map_err(|e| e.to_string())
}

fn ne<const N: usize, T>(big: bool, b: [u8; N], le: fn([u8; N]) -> T, be: fn([u8; N]) -> T) -> T {
    if big { be(b) } else { le(b) }
}

fn typed<T: Pixel, const N: usize>(
    data: &[u8],
    width: usize,
    height: usize,
    from: impl Fn([u8; N]) -> T,
) -> Result<AnyImage> {
    let mut img = Image::new(width, height)?;
    let rows = data.chunks_exact(width * N);
    for (dst, src) in img.as_view_mut().rows_mut().zip(rows) {
        for (d, c) in dst.iter_mut().zip(src.chunks_exact(N)) {
            *d = from(c.try_into().expect("chunks_exact gives N bytes"));
        }
    }
    Ok(img.into())
}

struct Header {
    dtype: DType,
    big_endian: bool,
    shape: (usize, usize),
}

impl Header {
    /// Parses the Python dict literal NumPy writes, e.g.
    /// `{'descr': '<u2', 'fortran_order': False, 'shape': (1080, 1920), }`.
    fn parse(text: &str) -> Result<Header, String> {
        let descr = dict_value(text, "descr")?;
        let descr = descr.trim_matches(|c| c == '\'' || c == '"');
        let (order, code) = match descr.chars().next() {
            Some(c @ ('<' | '>' | '|' | '=')) => (c, &descr[1..]),
            _ => ('=', descr),
        };
        let dtype = match code {
            "u1" | "B" => DType::U8,
            "u2" => DType::U16,
            "f4" => DType::F32,
            "i4" => DType::I32,
            "u4" => DType::U32,
            "f8" => DType::F64,
            other => {
                return Err(format!(
                    "unsupported dtype '{other}' (supported: u1, u2, f4, i4, u4, f8)"
                ));
            }
        };
        if dict_value(text, "fortran_order")? != "False" {
            return Err(
                "Fortran-order arrays are not supported (save with np.ascontiguousarray)".into(),
            );
        }
        let shape = dict_value(text, "shape")?;
        let dims: Vec<usize> = shape
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|_| format!("bad shape {shape}")))
            .collect::<Result<_, _>>()?;
        let shape = match dims[..] {
            [h, w] | [h, w, 1] => (h, w),
            _ => return Err(format!("shape {shape} is not a 2-D single-channel image")),
        };
        Ok(Header {
            dtype,
            big_endian: order == '>',
            shape,
        })
    }
}

/// The raw text of `key`'s value in a flat Python dict literal.
fn dict_value<'t>(text: &'t str, key: &str) -> Result<&'t str, String> {
    let missing = || format!("header has no '{key}'");
    // The key is a quoted name followed by a colon (a value that merely spells the key
    // is not followed by one).
    let rest = ['\'', '"']
        .iter()
        .flat_map(|q| {
            let quoted = format!("{q}{key}{q}");
            let len = quoted.len();
            text.match_indices(&quoted)
                .map(|(at, _)| &text[at + len..])
                .collect::<Vec<_>>()
        })
        .find_map(|rest| rest.trim_start().strip_prefix(':'))
        .ok_or_else(missing)?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map(|i| i + 1)
    } else {
        rest.find([',', '}'])
    }
    .ok_or_else(|| format!("header value of '{key}' is not terminated"))?;
    Ok(rest[..end].trim())
}
