"""Rendering: every PNG, SVG, GIF and terminal drawing is read back by zxing-cpp."""

from __future__ import annotations

import io
import re

import pytest

from tests.test_qr_samples import require_qr_stack, scan
from vc.qr import (
    decode_images,
    fits_terminal,
    qr_version,
    render_gif,
    render_png,
    render_svg,
    render_terminal,
    terminal_size,
)
from vc.qr.errors import QRError
from vc.qr.render import (
    ANSI_DARK_ON_LIGHT,
    ANSI_RESET,
    FULL_BLOCK,
    LOWER_HALF,
    UPPER_HALF,
    content_and_mode,
    make_qr,
)

pytestmark = pytest.mark.usefixtures("qr_stack")


@pytest.fixture(scope="module")
def qr_stack() -> None:
    require_qr_stack()


BINARY = bytes(range(256)) * 2
URI = "openid4vp://?client_id=x509_hash%3AUvRWRX2yIPRBmZmIh2lzoYmFGWxLtnDs8XStBadlpwI&request_uri=https%3A%2F%2Fbank.example%2Fr%2F8f3a"


def png_to_image(png: bytes):  # type: ignore[no-untyped-def]
    from PIL import Image

    return Image.open(io.BytesIO(png))


def image_png(image) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def rasterize_svg(svg: str, scale: int = 4) -> bytes:
    """Draw segno's SVG (a white rect and one path of 1-unit horizontal strokes) as a PNG.

    Only the path commands segno emits are understood (M, m, h, v/z are absent from
    its stroke paths); anything else fails the test rather than being guessed at.
    """
    from PIL import Image, ImageDraw

    width = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    transform = re.search(r'transform="scale\((\d+)\)"', svg)
    unit = int(transform.group(1)) if transform else 1
    size = width // unit
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)
    assert path is not None, "segno's stroke path not found"
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        elif command == "h":
            x2 = x + float(a)
            row = int(y - 0.5)
            draw.rectangle(
                [min(x, x2) * scale, row * scale, max(x, x2) * scale - 1, (row + 1) * scale - 1],
                fill=0,
            )
            x = x2
        else:
            pytest.fail(f"unexpected SVG path command {command}")
    return image_png(image)


def rasterize_terminal(text: str, scale: int = 4) -> bytes:
    """Paint half-block text as a terminal shows it dark-on-light (glyph = dark)."""
    from PIL import Image

    text = text.replace(ANSI_DARK_ON_LIGHT, "").replace(ANSI_RESET, "")
    lines = text.split("\n")
    width = len(lines[0])
    pixels = bytearray()
    for line in lines:
        assert len(line) == width
        top = bytes(0 if c in (UPPER_HALF, FULL_BLOCK) else 255 for c in line)
        bottom = bytes(0 if c in (LOWER_HALF, FULL_BLOCK) else 255 for c in line)
        pixels += top + bottom
    image = Image.frombytes("L", (width, 2 * len(lines)), bytes(pixels))
    return image_png(image.resize((width * scale, 2 * len(lines) * scale), Image.Resampling.NEAREST))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("data", [BINARY, b"\xc5\x01" + bytes(900), "SC:ABC 123$%*+-./:", URI])
def test_png_round_trip(data: bytes | str) -> None:
    expected = data if isinstance(data, bytes) else data.encode("utf-8")
    assert scan(render_png(data)) == [expected]


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_png_scales_and_quiet_zones(scale: int) -> None:
    png = render_png(BINARY, scale=scale, border=4)
    image = png_to_image(png)
    side = (4 * qr_version(BINARY) + 17 + 8) * scale
    assert image.size == (side, side)
    assert image.getpixel((0, 0)) in (255, (255, 255, 255), 1)  # light quiet zone
    assert scan(png) == [BINARY]


def test_svg_round_trip() -> None:
    svg = render_svg(BINARY, scale=3, border=4)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert scan(rasterize_svg(svg)) == [BINARY]


@pytest.mark.parametrize("ansi", [False, True])
def test_terminal_round_trip(ansi: bool) -> None:
    data = bytes(range(180))  # one default animated frame's size
    text = render_terminal(data, border=2, ansi=ansi)
    lines = text.split("\n")
    cols, rows = terminal_size(data, border=2)
    assert len(lines) == rows
    if ansi:
        assert all(line.startswith(ANSI_DARK_ON_LIGHT) and line.endswith(ANSI_RESET) for line in lines)
    else:
        assert {len(line) for line in lines} == {cols}
        assert set(text) <= {UPPER_HALF, LOWER_HALF, FULL_BLOCK, " ", "\n"}
    assert scan(rasterize_terminal(text)) == [data]


def test_gif_round_trip_frame_by_frame() -> None:
    frames = [bytes([i]) * 150 for i in range(6)] + ["SC:ALNUM 1"]
    gif = render_gif(frames, fps=5)
    assert gif[:6] == b"GIF89a"
    image = png_to_image(gif)
    assert image.n_frames == len(frames)
    assert image.info.get("duration") == 200 and image.info.get("loop") == 0
    assert decode_images([gif]) == [f if isinstance(f, bytes) else f.encode() for f in frames]


def test_decode_images_reads_paths_and_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "code.png"
    path.write_bytes(render_png(b"\x01\x02\x03"))
    assert decode_images([path, str(path), render_png(b"other")]) == [b"\x01\x02\x03", b"other"]


def test_image_without_code_and_unreadable_image() -> None:
    from PIL import Image

    blank = image_png(Image.new("L", (200, 200), 255))
    with pytest.raises(QRError) as info:
        decode_images([blank])
    assert info.value.code == "qr_not_found"
    with pytest.raises(QRError) as info:
        decode_images([b"not an image at all"])
    assert info.value.code == "qr_image_unreadable"
    with pytest.raises(QRError) as info:
        decode_images([render_png(b"x")[:60]])
    assert info.value.code in {"qr_image_unreadable", "qr_not_found"}


# --------------------------------------------------------------------------- sizes


def test_modes() -> None:
    assert content_and_mode(b"\x00")[1] == "byte"
    assert content_and_mode("SC:ABC")[1] == "alphanumeric"
    assert content_and_mode("openid4vp://?x=1")[1] == "byte"
    assert make_qr(b"\xc5" * 10).mode == "byte"
    assert make_qr("SC:" + "A" * 100).mode == "alphanumeric"
    assert make_qr(b"x").version >= 1 and not make_qr(b"x").is_micro


def test_versions_match_iso_capacities() -> None:
    """domain.md §4.1: byte mode at M holds 180 B in v9, 997 B in v25, 2331 B in v40."""
    assert qr_version(bytes(180)) == 9 and qr_version(bytes(181)) == 10
    assert qr_version(bytes(997)) == 25 and qr_version(bytes(998)) == 26
    assert qr_version("A" * 1451) == 25 and qr_version("A" * 1452) == 26
    assert qr_version(bytes(2331)) == 40
    with pytest.raises(QRError) as info:
        qr_version(bytes(2332))
    assert info.value.code == "qr_too_large"


def test_terminal_sizes_match_domain_notes() -> None:
    """domain.md §5: v25 takes 121 × 61 with a 2-module quiet zone; 80×24 holds v6 at most."""
    assert terminal_size(bytes(997), border=2) == (121, 61)
    assert terminal_size(bytes(997), border=4) == (125, 63)
    assert fits_terminal(bytes(106), 80, 24)       # v6
    assert not fits_terminal(bytes(122), 80, 24)   # v7
    assert fits_terminal(bytes(180), 100, 30)      # v9: a default animated frame
    assert not fits_terminal(bytes(181), 100, 30)
    assert not fits_terminal(bytes(5000), 500, 500)


def test_bad_options_are_named() -> None:
    for call in (
        lambda: render_png(b"x", scale=0),
        lambda: render_png(b"x", error="z"),
        lambda: render_gif([], fps=5),
        lambda: render_gif([b"x"], fps=0),
        lambda: render_png(123),  # type: ignore[arg-type]
    ):
        with pytest.raises(QRError):
            call()
