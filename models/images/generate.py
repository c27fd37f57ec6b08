#!/usr/bin/env python3
"""Makes the test photos under models/images/ from scikit-image's sample photographs.

Needs Debian's python3-skimage and python3-pil (run with /usr/bin/python3); CI uses the committed
files. Random pixels compress badly, so real photos, cropped and scaled into distinct images, give
JPEGs of the sizes cameras make.
"""
import io
import os
import struct

import numpy as np
from PIL import Image

DATA = "/usr/lib/python3/dist-packages/skimage/data"
OUT = os.path.dirname(os.path.abspath(__file__))
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg",
          "hubble_deep_field.jpg", "ihc.png", "retina.jpg"]


def photo(name):
    return Image.open(os.path.join(DATA, name)).convert("RGB")


def crops(count, width, height):
    """Distinct crops: each photo at several scales and offsets, scaled to width x height."""
    out = []
    k = 0
    while len(out) < count:
        src = photo(PHOTOS[k % len(PHOTOS)])
        step = k // len(PHOTOS)
        scale = 1.0 - 0.15 * (step % 4)
        w = int(min(src.width, src.height * width / height) * scale)
        h = int(w * height / width)
        left = (src.width - w) * ((step * 37) % 100) // 100
        top = (src.height - h) * ((step * 61) % 100) // 100
        out.append(src.crop((left, top, left + w, top + h)).resize((width, height), Image.BILINEAR))
        k += 1
    return out


def jpeg(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return len(data)


def exif_orientation(orientation):
    """An APP1 Exif segment holding only IFD0's Orientation tag (little-endian TIFF)."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHII", 0x0112, 3, 1, orientation) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + tiff


def main():
    sizes = {"224": [], "1080p": []}
    for i, image in enumerate(crops(32, 224, 224)):
        sizes["224"].append(write("photo-224-%02d.jpg" % i, jpeg(image)))
    for i, image in enumerate(crops(4, 1920, 1080)):
        sizes["1080p"].append(write("photo-1080p-%d.jpg" % i, jpeg(image)))

    upright = crops(1, 300, 200)[0]
    write("upright.png", png_bytes(upright))
    # stored turned 90 degrees anticlockwise; Orientation 6 says "rotate 90 clockwise to view"
    write("exif-rotated.jpg", jpeg(upright.transpose(Image.ROTATE_90), exif=exif_orientation(6)))
    write("upright.jpg", jpeg(upright))
    write("progressive.jpg", jpeg(crops(2, 224, 224)[1], progressive=True))
    write("grayscale.jpg", jpeg(crops(3, 224, 224)[2].convert("L")))
    write("grayscale.png", png_bytes(crops(3, 224, 224)[2].convert("L")))
    write("cmyk.jpg", jpeg(crops(4, 224, 224)[3].convert("CMYK")))
    whole = jpeg(crops(5, 224, 224)[4])
    write("truncated.jpg", whole[: len(whole) * 2 // 3])
    corrupt = bytearray(whole)
    scan = corrupt.index(b"\xff\xda")
    for i in range(scan + 200, len(corrupt) - 2, 97):
        corrupt[i] = 0xFF  # markers in the entropy-coded data
    corrupt[scan + 2: scan + 4] = b"\x00\x03"  # and an SOS header shorter than its fields
    write("corrupt.jpg", bytes(corrupt))
    write("bomb.jpg", bomb(whole))
    sixteen = np.asarray(crops(6, 64, 64)[5], dtype=np.uint16) * 257
    write("gray16.png", png_bytes(Image.fromarray(sixteen[:, :, 0], "I;16")))
    write("not-an-image.jpg", b"GIF89a" + bytes(200))

    with open(os.path.join(OUT, "sizes.txt"), "w") as f:
        for name, values in sizes.items():
            f.write("%s: %d images, mean %d bytes, min %d, max %d\n"
                    % (name, len(values), sum(values) / len(values), min(values), max(values)))


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def bomb(jpeg_bytes):
    """The same small JPEG whose SOF header claims 65000 x 65000 pixels."""
    data = bytearray(jpeg_bytes)
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65000, 65000)
    return bytes(data)


if __name__ == "__main__":
    main()
