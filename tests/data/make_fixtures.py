#!/usr/bin/env python3
"""Writes the fixture files of tests/test_inflate.c, test_idx.c and test_csv.c into this folder.

The compressed files come from independent implementations, which the tests hold our inflate
against: the system `gzip` at levels 1, 6 and 9 (dynamic Huffman blocks) and Python's zlib for
stored blocks (level 0) and fixed-Huffman blocks (strategy Z_FIXED), each flushed mid-stream so
that several blocks, and empty stored blocks at odd bit positions, occur.

Run it from anywhere: `python3 tests/data/make_fixtures.py`. Its output is deterministic for a
given gzip version; the files it made are committed, so the tests need neither Python nor gzip.
"""
import os
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def lcg(seed):
    """A 32-bit linear congruential generator: the same numbers on every Python."""
    state = seed
    while True:
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        yield state >> 8


def sample():
    """About 32 KB that exercise every part of deflate: text (literals, short matches), random
    bytes (incompressible: stored blocks or long literal runs), a run of zeros (distance 1,
    length 258) and an early stretch repeated about 27 KB later (distances near the 32 KB
    window)."""
    rnd = lcg(12345)
    words = ("neuron layer weight bias gradient softmax sigmoid tanh relu batch epoch loss "
             "forward backward matrix vector learning rate momentum dropout kernel tensor "
             "train test accuracy label class sample feature input output hidden").split()
    text = bytearray()
    while len(text) < 16000:
        text += words[next(rnd) % len(words)].encode()
        text += b"\n" if next(rnd) % 11 == 0 else b" "
    text = bytes(text[:16000])
    noise = bytes(next(rnd) & 0xFF for _ in range(8192))
    return text + noise + bytes(4000) + text[1000:5000]


def gzip_system(data, level):
    return subprocess.run(["gzip", "-n", "-c", f"-{level}"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def gzip_zlib(data, level, strategy=zlib.Z_DEFAULT_STRATEGY, pieces=3):
    """A gzip file (wbits=31) written by zlib, with a sync flush between pieces."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31, 9, strategy)
    out = bytearray()
    step = (len(data) + pieces - 1) // pieces
    for i in range(0, len(data), step):
        out += c.compress(data[i:i + step])
        out += c.flush(zlib.Z_SYNC_FLUSH)
    out += c.flush()
    return bytes(out)


def gzip_all_flags(data):
    """A gzip member with every optional header field: FEXTRA, FNAME, FCOMMENT and FHCRC."""
    header = bytearray(b"\x1f\x8b\x08\x1e" + struct.pack("<I", 0) + b"\x00\x03")
    extra = b"AB\x04\x00test"
    header += struct.pack("<H", len(extra)) + extra
    header += b"sample.bin\x00" + b"a comment\x00"
    header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return bytes(header) + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def gz(data):
    return gzip_zlib(data, 9, pieces=1)


def main():
    data = sample()
    write("sample.bin", data)
    for level in (1, 6, 9):
        write(f"sample-{level}.gz", gzip_system(data, level))
    write("sample-stored.gz", gzip_zlib(data, 0))
    write("sample-fixed.gz", gzip_zlib(data, 9, zlib.Z_FIXED))
    write("sample-flags.gz", gzip_all_flags(data))
    write("empty.gz", gzip_system(b"", 6))

    # IDX: images 3 x 2 x 2 as u8, their labels, and one file per other element type.
    images = idx(0x08, [3, 2, 2], bytes(range(0, 240, 20)))
    write("images-u8.idx", images)
    write("images-u8.idx.gz", gz(images))
    write("labels-u8.idx", idx(0x08, [5], bytes([3, 0, 9, 1, 3])))
    write("values-i8.idx", idx(0x09, [2, 2], struct.pack(">4b", -128, -1, 0, 127)))
    write("values-i16.idx", idx(0x0B, [2, 2], struct.pack(">4h", -32768, -2, 300, 32767)))
    write("values-i32.idx", idx(0x0C, [2, 2], struct.pack(">4i", -100000, -1, 7, 16777216)))
    write("values-f32.idx", idx(0x0D, [2, 2], struct.pack(">4f", -1.5, 0.0, 0.25, 3e38)))
    write("values-f64.idx", idx(0x0E, [4], struct.pack(">4d", -2.5, 1e-3, 1e30, 12345.0)))
    # ... and the broken ones.
    write("bad-magic.idx", b"\x01" + images[1:])
    write("bad-type.idx", images[:2] + b"\x07" + images[3:])
    write("no-dims.idx", bytes([0, 0, 0x08, 0]))
    write("truncated-header.idx", images[:9])
    write("truncated-data.idx", images[:-1])
    write("trailing-data.idx", images + b"\x00")
    write("huge-dims.idx", idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], bytes(16)))
    write("huge-dims.idx.gz", gz(idx(0x08, [0x7FFFFFFF, 0x10000], bytes(64))))
    write("nan.idx", idx(0x0D, [2], struct.pack(">2f", 1.0, float("nan"))))
    write("big-f64.idx", idx(0x0E, [1], struct.pack(">d", 1e300)))
    compressed = gz(images)
    write("truncated.idx.gz", compressed[:len(compressed) // 2])
    bad_crc = bytearray(compressed)
    bad_crc[-8] ^= 0x01
    write("bad-crc.idx.gz", bytes(bad_crc))
    bad_size = bytearray(compressed)
    bad_size[-4] += 1
    write("bad-size.idx.gz", bytes(bad_size))
    write("huge-isize.gz", compressed[:-4] + struct.pack("<I", 0xFFFFFFFF))

    # CSV: a byte order mark, a header, CRLF line ends and a blank last line.
    write("header-crlf.csv", b"\xef\xbb\xbfarea,rooms,price\r\n"
                             b"50.5,2,150\r\n72,3,210.25\r\n120,4,400\r\n\r\n")
    write("semicolon.csv", b"1 ; -2.5e1 ;+3\n"
                           b"\t4;.5;6.\n")
    write("header-crlf.csv.gz", gz(open(os.path.join(HERE, "header-crlf.csv"), "rb").read()))
    write("bad-cell.csv", b"x,y,label\n1,2,0\n3,4,1\n5,abc,0\n")
    write("short-row.csv", b"1,2,3\n4,5,6\n7,8\n")
    write("long-row.csv", b"1,2,3\n4,5,6,7\n")
    write("empty.csv", b"")
    write("header-only.csv", b"a,b,c\n")


if __name__ == "__main__":
    main()
