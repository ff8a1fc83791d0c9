//! Image views, owned images, conversions and file I/O: layout checks, zero-copy
//! conversions, round trips through every file format, and clear errors for bad input.

mod common;

use common::temp_dir;
use frameline::image::{ROW_ALIGN_BYTES, load, npy, save};
use frameline::testing::random_image;
use frameline::{AnyImage, DType, Error, Image, ImageView, ImageViewMut};

#[test]
fn view_constructors_validate_layout() {
    let data = vec![0u8; 100];
    assert!(matches!(
        ImageView::new(&data, 0, 5, 10),
        Err(Error::ZeroSize { .. })
    ));
    assert!(matches!(
        ImageView::new(&data, 5, 0, 10),
        Err(Error::ZeroSize { .. })
    ));
    assert!(matches!(
        ImageView::new(&data, 11, 2, 10),
        Err(Error::BadStride { .. })
    ));
    assert!(matches!(
        ImageView::new(&data, 10, 11, 10),
        Err(Error::BufferTooShort { .. })
    ));
    assert!(matches!(
        ImageView::new(&data, 1, usize::MAX, usize::MAX),
        Err(Error::TooLarge { .. })
    ));
    // The last row need not be padded: 9 rows of stride 11 plus 10 = 98 elements.
    let v = ImageView::new(&data[..98], 10, 9, 11).unwrap();
    assert_eq!((v.width(), v.height(), v.stride()), (10, 9, 11));
    let mut data = data;
    assert!(matches!(
        ImageViewMut::new(&mut data, 3, 3, 2),
        Err(Error::BadStride { .. })
    ));
    assert!(matches!(
        Image::<f32>::new(0, 3),
        Err(Error::ZeroSize { .. })
    ));
    assert!(matches!(
        Image::<u8>::from_vec(vec![1, 2, 3], 2, 2),
        Err(Error::BufferTooShort { .. })
    ));
}

#[test]
fn consecutive_rows_are_writable_together_and_checked() {
    // Stride 5, width 3, and an unpadded last row: 4 rows in 5 * 3 + 3 elements.
    let mut data = vec![0u8; 18];
    let mut v = ImageViewMut::new(&mut data, 3, 4, 5).unwrap();
    for (m, row) in v.consecutive_rows_mut::<3>(1).into_iter().enumerate() {
        assert_eq!(row.len(), 3);
        row.fill(m as u8 + 1);
    }
    let [last] = v.consecutive_rows_mut::<1>(3);
    last.fill(9);
    let rows: Vec<Vec<u8>> = v.as_view().rows().map(<[u8]>::to_vec).collect();
    assert_eq!(rows, [[0, 0, 0], [1, 1, 1], [2, 2, 2], [9, 9, 9]]);
    assert_eq!(data[3..5], [0, 0], "padding untouched");
    let mut v = ImageViewMut::new(&mut data, 3, 4, 5).unwrap();
    for (y, what) in [(2, "past the end"), (usize::MAX, "overflowing")] {
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.consecutive_rows_mut::<3>(y);
        }));
        assert!(refused.is_err(), "{what}");
    }
}

#[test]
fn sub_views_share_pixels_and_check_bounds() {
    let img = Image::from_fn(8, 6, |x, y| (y * 8 + x) as u16).unwrap();
    let v = img.as_view();
    let sub = v.sub_view(2, 1, 3, 4).unwrap();
    assert_eq!(sub.row(0), &[10, 11, 12]);
    assert_eq!(sub.row(3), &[34, 35, 36]);
    assert_eq!(sub.stride(), img.stride());
    let subsub = sub.sub_view(1, 1, 2, 2).unwrap();
    assert_eq!(subsub.get(1, 1), Some(28));
    for (x, y, w, h) in [
        (6, 0, 3, 1),
        (0, 5, 1, 2),
        (0, 0, 0, 1),
        (usize::MAX, 0, 2, 1),
    ] {
        assert!(
            matches!(v.sub_view(x, y, w, h), Err(Error::RectOutside { .. })),
            "{x},{y},{w},{h}"
        );
    }
    let one = v.sub_view(7, 5, 1, 1).unwrap();
    assert_eq!(one.get(0, 0), Some(47));
    assert_eq!(one.get(1, 0), None);
}

#[test]
fn owned_rows_are_aligned_and_padded() {
    for w in [1, 3, 63, 64, 65, 1921] {
        let img = Image::<u8>::new(w, 3).unwrap();
        assert_eq!(img.stride() % ROW_ALIGN_BYTES, 0);
        for y in 0..3 {
            assert_eq!(
                img.row(y).as_ptr() as usize % ROW_ALIGN_BYTES,
                0,
                "w {w} row {y}"
            );
        }
        let f = Image::<f32>::new(w, 2).unwrap();
        assert_eq!(f.row(1).as_ptr() as usize % ROW_ALIGN_BYTES, 0);
    }
}

#[test]
fn large_images_on_huge_pages_behave_like_small_ones() {
    // Past HUGE_PAGE_MIN_BYTES the pixels live in mapped pages (on Linux): rows stay
    // aligned, and clones, packing and conversions give the same pixels.
    use frameline::image::HUGE_PAGE_MIN_BYTES;
    for (w, h) in [(2048, HUGE_PAGE_MIN_BYTES / 2048), (2001, 2100)] {
        let img = Image::from_fn(w, h, |x, y| (x * 7 + y * 3) as u8).unwrap();
        assert!(img.stride() * h >= HUGE_PAGE_MIN_BYTES);
        assert_eq!(img.row(h - 1).as_ptr() as usize % ROW_ALIGN_BYTES, 0);
        assert_eq!(
            img.get(w - 1, h - 1),
            Some(((w - 1) * 7 + (h - 1) * 3) as u8)
        );
        let c = img.clone();
        assert_eq!(c, img);
        let packed = img.clone().into_vec();
        assert_eq!(packed.len(), w * h);
        assert_eq!(Image::from_vec(packed, w, h).unwrap(), img);
        let buffer = img.clone().into_luma_buffer().unwrap();
        assert_eq!(Image::try_from(buffer).unwrap(), img);
        let f = Image::<f64>::filled(w, h / 4, -0.5).unwrap();
        assert!(f.as_view().rows().flatten().all(|&v| v == -0.5));
    }
}

#[test]
fn clones_and_loaded_images_have_aligned_rows() {
    let img = Image::from_fn(70, 5, |x, y| (x * y) as u8).unwrap();
    for _ in 0..8 {
        let c = img.clone();
        assert_eq!(c, img);
        assert_eq!(c.row(1).as_ptr() as usize % ROW_ALIGN_BYTES, 0);
    }
    let dir = temp_dir("aligned");
    for name in ["a.png", "a.npy", "a.pgm"] {
        let path = dir.join(name);
        save(&path, AnyImage::from(img.clone()).as_view()).unwrap();
        match load(&path).unwrap() {
            AnyImage::U8(back) => {
                assert_eq!(back, img);
                assert_eq!(back.row(3).as_ptr() as usize % ROW_ALIGN_BYTES, 0, "{name}");
            }
            other => panic!("wrong type {:?}", other.dtype()),
        }
    }
}

#[test]
fn split_rows_and_fill() {
    let mut img = Image::<i32>::new(5, 4).unwrap();
    assert!(img.as_view().split_at_row(0).is_none());
    assert!(img.as_view().split_at_row(4).is_none());
    let view = img.as_view_mut();
    let (mut top, mut bottom) = view.split_at_row_mut(1).unwrap();
    top.fill(-1);
    bottom.fill(7);
    assert_eq!(bottom.height(), 3);
    assert_eq!(img.row(0), &[-1; 5]);
    assert_eq!(img.row(3), &[7; 5]);
    let mut other = Image::<i32>::new(5, 3).unwrap();
    assert!(matches!(
        other.as_view_mut().copy_from(&img.as_view()),
        Err(Error::SizeMismatch { .. })
    ));
}

#[test]
fn image_crate_buffers_convert_without_copying() {
    let gray = image::GrayImage::from_fn(17, 5, |x, y| image::Luma([(x * y) as u8]));
    let ptr = gray.as_raw().as_ptr();
    let view = ImageView::try_from(&gray).unwrap();
    assert_eq!(view.as_slice().as_ptr(), ptr);
    assert_eq!(view.get(16, 4), Some(64));
    let owned = Image::try_from(gray).unwrap();
    assert_eq!(owned.as_view().as_slice().as_ptr(), ptr);
    let back = owned.into_luma_buffer().unwrap();
    assert_eq!(back.as_raw().as_ptr(), ptr);
    // A padded image packs on the way out, pixels intact.
    let padded = Image::from_fn(5, 2, |x, y| (x + 10 * y) as u16).unwrap();
    let buf = padded.clone().into_luma_buffer().unwrap();
    assert_eq!(buf.get_pixel(4, 1).0[0], 14);
    let empty = image::GrayImage::new(0, 0);
    assert!(ImageView::try_from(&empty).is_err());
}

#[test]
fn npy_round_trips_every_dtype_from_strided_views() {
    let dir = temp_dir("npy");
    for dtype in [DType::U8, DType::U16, DType::F32, DType::I32, DType::U32] {
        let img = random_image(dtype, 13, 7, 3).unwrap();
        let path = dir.join(format!("{dtype}.npy"));
        save(&path, img.as_view()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header_end = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!(header_end % 64, 0, "header padded to 64 bytes");
        assert_eq!(bytes.len(), header_end + 13 * 7 * dtype.size());
        assert_eq!(load(&path).unwrap(), img, "{dtype}");
    }
    // A strided view writes only its pixels.
    let big = Image::from_fn(10, 10, |x, y| (x + 10 * y) as u8).unwrap();
    let sub = big.as_view().sub_view(2, 3, 4, 2).unwrap();
    let decoded = npy::decode(&npy::encode(frameline::AnyView::U8(sub))).unwrap();
    match decoded {
        AnyImage::U8(i) => assert_eq!(i.into_vec(), vec![32, 33, 34, 35, 42, 43, 44, 45]),
        other => panic!("wrong type {:?}", other.dtype()),
    }
}

fn npy_bytes(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.push(version);
    out.push(0);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn npy_reads_what_numpy_writes() {
    // Version 2 header, big-endian u16, (h, w, 1) shape.
    let hdr = "{'descr': '>u2', 'fortran_order': False, 'shape': (2, 2, 1), }      \n";
    let img = npy::decode(&npy_bytes(2, hdr, &[0, 1, 1, 0, 0, 2, 255, 255])).unwrap();
    match img {
        AnyImage::U16(i) => assert_eq!(i.into_vec(), vec![1, 256, 2, 65535]),
        other => panic!("wrong type {:?}", other.dtype()),
    }
    // A value that spells a key is not the key.
    let hdr = "{'descr': '|u1', 'note': 'shape', 'fortran_order': False, 'shape': (1, 2), }\n";
    assert_eq!(
        npy::decode(&npy_bytes(1, hdr, &[5, 6])).unwrap().size(),
        (2, 1)
    );
    let hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }\n";
    let img = npy::decode(&npy_bytes(1, hdr, &1.5f32.to_le_bytes())).unwrap();
    assert_eq!(img.dtype(), DType::F32);
}

#[test]
fn corrupt_npy_gives_reasons_not_panics() {
    let ok = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }\n";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PNG....".to_vec(), "magic"),
        (b"\x93NUMPY".to_vec(), "magic"),
        (b"\x93NUMPY\x02\x00\x01\x00".to_vec(), "truncated header"),
        (npy_bytes(1, ok, &[1, 2, 3]), "truncated data"),
        (npy_bytes(9, ok, &[0; 6]), "version"),
        (npy_bytes(1, &ok.replace("|u1", "<c8"), &[0; 48]), "dtype"),
        (
            npy_bytes(1, &ok.replace("False", "True"), &[0; 6]),
            "Fortran",
        ),
        (
            npy_bytes(1, &ok.replace("(2, 3)", "(2, 3, 3)"), &[0; 18]),
            "2-D",
        ),
        (npy_bytes(1, &ok.replace("(2, 3)", "(0, 3)"), &[]), "shape"),
        (
            npy_bytes(1, &ok.replace("(2, 3)", "(2, x)"), &[0; 6]),
            "shape",
        ),
        (npy_bytes(1, "{'descr': '|u1'}", &[0; 6]), "fortran_order"),
        (
            npy_bytes(
                1,
                &ok.replace("(2, 3)", "(99999999999, 99999999999)"),
                &[0; 6],
            ),
            "",
        ),
    ];
    for (bytes, want) in cases {
        let err = npy::decode(&bytes).unwrap_err();
        assert!(err.contains(want), "'{err}' should mention '{want}'");
    }
    let mut long_header = npy_bytes(1, ok, &[0; 6]);
    long_header[8] = 0xff; // header length beyond the file
    assert!(npy::decode(&long_header).unwrap_err().contains("truncated"));
}

#[test]
fn png_pgm_jpeg_round_trips() {
    let dir = temp_dir("files");
    let img8 = random_image(DType::U8, 33, 21, 1).unwrap();
    let img16 = random_image(DType::U16, 33, 21, 2).unwrap();
    for ext in ["png", "pgm"] {
        for img in [&img8, &img16] {
            let path = dir.join(format!("{}.{ext}", img.dtype()));
            save(&path, img.as_view()).unwrap();
            assert_eq!(&load(&path).unwrap(), img, "{ext} {}", img.dtype());
            if ext == "pgm" {
                let bytes = std::fs::read(&path).unwrap();
                let maxval = if img.dtype() == DType::U8 {
                    "255"
                } else {
                    "65535"
                };
                assert!(bytes.starts_with(format!("P5\n33 21\n{maxval}\n").as_bytes()));
            }
        }
    }
    // JPEG is lossy: check size and type only.
    let path = dir.join("a.jpg");
    save(&path, img8.as_view()).unwrap();
    let back = load(&path).unwrap();
    assert_eq!((back.dtype(), back.size()), (DType::U8, (33, 21)));
    // Colour input becomes gray.
    let rgb = image::RgbImage::from_pixel(4, 3, image::Rgb([255, 255, 255]));
    let path = dir.join("rgb.png");
    rgb.save(&path).unwrap();
    match load(&path).unwrap() {
        AnyImage::U8(g) => assert_eq!(g.get(3, 2), Some(255)),
        other => panic!("wrong type {:?}", other.dtype()),
    }
}

#[test]
fn file_errors_are_clear() {
    let dir = temp_dir("errors");
    assert!(matches!(
        load(dir.join("missing.png")),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        load(dir.join("missing.npy")),
        Err(Error::Io { .. })
    ));
    let corrupt = dir.join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\n garbage").unwrap();
    let err = load(&corrupt).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(err.to_string().contains("corrupt.png"));
    let f = random_image(DType::F32, 4, 4, 1).unwrap();
    assert!(matches!(
        save(dir.join("f.png"), f.as_view()),
        Err(Error::Encode { .. })
    ));
    let g = random_image(DType::U8, 4, 4, 1).unwrap();
    assert!(matches!(
        save(dir.join("g.xyz"), g.as_view()),
        Err(Error::Encode { .. })
    ));
    assert!(matches!(
        save(dir.join("g.bmp"), g.as_view()),
        Err(Error::Encode { .. })
    ));
    assert!(matches!(
        save(dir.join("no/such/dir/g.npy"), g.as_view()),
        Err(Error::Io { .. })
    ));
}

#[test]
fn any_views_check_their_type() {
    let img = random_image(DType::U16, 3, 3, 1).unwrap();
    assert!(img.as_view().typed::<u16>().is_ok());
    let err = img.as_view().typed::<u8>().unwrap_err();
    assert!(
        err.to_string().contains("u8") && err.to_string().contains("u16"),
        "{err}"
    );
}
