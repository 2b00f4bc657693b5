"""Check that bytes a stand-in received are a chart PNG as services/charts/render.py draws it."""

from __future__ import annotations

import struct

from services.charts.render import DPI, HEIGHT_IN, WIDTH_IN

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHART_SIZE = (round(WIDTH_IN * DPI), round(HEIGHT_IN * DPI))  # 1080 x 1350


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a valid PNG has first, right after the
    signature; AssertionError when the bytes are no PNG."""
    assert data[:8] == PNG_SIGNATURE, f"not a PNG: {data[:16]!r}"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR"), f"first chunk is {kind!r}, not IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_chart_png(data: bytes) -> None:
    assert png_size(data) == CHART_SIZE
    assert data.endswith(b"IEND\xaeB`\x82"), "PNG does not end with its IEND chunk"


def threshold_rows(data: bytes, colour: str = "#c0392b") -> int:
    """How many pixel rows hold a long run of the threshold colour: a dashed horizontal
    threshold line across the plot shows as at least one such row."""
    import io  # noqa: PLC0415

    from matplotlib.image import imread  # noqa: PLC0415

    pixels = imread(io.BytesIO(data), format="png")[:, :, :3]
    target = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    close = (abs(pixels - target) < 0.08).all(axis=2)
    return int((close.sum(axis=1) > pixels.shape[1] // 3).sum())
