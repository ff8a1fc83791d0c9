#!/usr/bin/env python3
"""Unpacks the uncompressed ELF vmlinux from Debian's amd64 vmlinuz (a bzImage with an
xz payload), so QEMU can boot it directly via PVH and skip SeaBIOS and the in-guest
decompression (several seconds under TCG).  Usage: extract-vmlinux.py VMLINUZ OUT"""
import lzma
import sys

src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit(f"{src}: no xz payload found")
out = lzma.LZMADecompressor().decompress(data[start:])
if out[:4] != b"\x7fELF":
    sys.exit(f"{src}: xz payload is not an ELF file")
with open(dst, "wb") as f:
    f.write(out)
