"""Minimal PNG reader/writer (stdlib only) for the report rendering test:
decode 8-bit RGB/RGBA non-interlaced PNGs (what Chromium writes), count
pixels, crop.

usage: png.py check FILE              exit 0 if FILE shows a rendered report
       png.py FILE OUT Y0 Y1          crop rows Y0..Y1 of FILE into OUT
"""
import struct
import zlib


def read_png(path):
    """Returns (width, height, channels, rows) where rows is a list of bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, w = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
            ch = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = w * ch
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def write_png(path, w, h, ch, rows):
    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    ctype = 2 if ch == 3 else 6
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def crop(src, dst, y0, y1):
    w, h, ch, rows = read_png(src)
    rows = rows[max(0, y0):min(h, y1)]
    write_png(dst, w, len(rows), ch, rows)


# The report's cluster colours (src/report/svg.c) and bar colours.
PALETTE = {"#4e79a7": (78, 121, 167), "#f28e2b": (242, 142, 43), "#e15759": (225, 87, 89),
           "#76b7b2": (118, 183, 178), "#59a14f": (89, 161, 79)}


def inspect(path):
    """Fraction of pixels that are not (near) white, and which report colours
    appear (within a small tolerance, as anti-aliasing and opacity blend)."""
    w, h, ch, rows = read_png(path)
    total = inked = 0
    seen = set()
    for r in rows:
        for x in range(0, w * ch, ch):
            rgb = r[x], r[x + 1], r[x + 2]
            total += 1
            if min(rgb) < 235:
                inked += 1
            for name, c in PALETTE.items():
                if name not in seen and all(abs(a - b) <= 12 for a, b in zip(rgb, c)):
                    seen.add(name)
    return w, h, inked / max(total, 1), sorted(seen)


if __name__ == "__main__":
    import sys
    if sys.argv[1] == "check":
        # check FILE: exit 0 when the picture is a rendered report, not blank
        w, h, ink, colours = inspect(sys.argv[2])
        print("%dx%d pixels, %.1f %% inked, report colours seen: %s"
              % (w, h, ink * 100, " ".join(colours) or "none"))
        sys.exit(0 if w >= 200 and h >= 200 and ink >= 0.02 and len(colours) >= 2 else 1)
    crop(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
