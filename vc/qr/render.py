"""Drawing QR codes: PNG, SVG, animated GIF and Unicode half-blocks for terminals.

Binary payloads (the presentation container, fountain frames) go in byte mode;
text made only of QR alphanumeric characters (the ``SC:`` Base45 form) goes in
alphanumeric mode; other text (request URIs) is UTF-8 in byte mode. Always a
full QR symbol, never Micro QR (phone scanners do not read it), always dark on
light. segno and Pillow are imported only when a function needs them, so
``import vc`` works without the optional QR packages.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any, Final

from .codec import encode_presentation
from .errors import QRError, QRSupportMissing, QRTooLarge
from .fountain import DEFAULT_FRAGMENT, FountainEncoder

ALPHANUMERIC: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
ERROR_LEVELS: Final = ("l", "m", "q", "h")
UPPER_HALF: Final = "\u2580"  # ▀
LOWER_HALF: Final = "\u2584"  # ▄
FULL_BLOCK: Final = "\u2588"  # █
#: Black on bright white, for printing :func:`render_terminal` text on an ANSI terminal.
ANSI_DARK_ON_LIGHT: Final = "\x1b[30;107m"
ANSI_RESET: Final = "\x1b[0m"
MAX_GIF_FRAMES: Final = 1000


def _segno() -> Any:
    try:
        import segno  # optional extra, imported on use
    except ImportError as exc:
        raise QRSupportMissing("drawing QR codes needs the 'segno' package") from exc
    return segno


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise QRSupportMissing("images need the 'pillow' package") from exc
    return Image


def content_and_mode(data: bytes | str) -> tuple[bytes | str, str]:
    """What segno is given, and in which QR mode (docs/qr.md §2)."""
    if isinstance(data, bytes | bytearray):
        return bytes(data), "byte"
    if isinstance(data, str):
        if data and all(c in ALPHANUMERIC for c in data):
            return data, "alphanumeric"
        return data.encode("utf-8"), "byte"
    raise QRError("QR content must be bytes or text", code="qr_invalid_content")


def make_qr(data: bytes | str, *, error: str = "m") -> Any:
    """The smallest full QR symbol for ``data`` at ECC level ``error`` (a segno QRCode).

    segno may raise the error level for free when the next level fits the same version.
    """
    if error.lower() not in ERROR_LEVELS:
        raise QRError(f"error level must be one of {ERROR_LEVELS}", code="qr_invalid_option")
    segno = _segno()
    content, mode = content_and_mode(data)
    try:
        return segno.make(content, error=error, mode=mode, micro=False, boost_error=True)
    except segno.DataOverflowError as exc:
        raise QRTooLarge("the data does not fit in one QR code (version 40)") from exc


def qr_version(data: bytes | str, error: str = "m") -> int:
    """The QR version (1-40) ``data`` needs at ECC level ``error``."""
    version: int = make_qr(data, error=error).version
    return version


def _checked(scale: int, border: int) -> None:
    if not 1 <= scale <= 64 or not 0 <= border <= 16:
        raise QRError("scale must be 1-64 and border 0-16", code="qr_invalid_option")


def render_png(data: bytes | str, *, scale: int = 4, border: int = 4, error: str = "m") -> bytes:
    """A PNG, black modules on white, ``scale`` pixels per module, ``border`` quiet modules."""
    _checked(scale, border)
    out = io.BytesIO()
    make_qr(data, error=error).save(
        out, kind="png", scale=scale, border=border, dark="#000", light="#fff"
    )
    return out.getvalue()


def render_svg(data: bytes | str, *, scale: int = 4, border: int = 4, error: str = "m") -> str:
    """An SVG document (UTF-8 text), black modules on an explicit white background."""
    _checked(scale, border)
    out = io.BytesIO()
    make_qr(data, error=error).save(
        out, kind="svg", scale=scale, border=border, dark="#000", light="#fff"
    )
    return out.getvalue().decode("utf-8")


def _modules(qr: Any, border: int) -> list[list[bool]]:
    return [[bool(m) for m in row] for row in qr.matrix_iter(scale=1, border=border)]


def terminal_size(data: bytes | str, *, border: int = 2, error: str = "m") -> tuple[int, int]:
    """(columns, rows) that :func:`render_terminal` output occupies."""
    _checked(1, border)
    side = 4 * qr_version(data, error) + 17 + 2 * border
    return side, (side + 1) // 2


def fits_terminal(
    data: bytes | str, cols: int, rows: int, *, border: int = 2, error: str = "m"
) -> bool:
    """Whether the half-block rendering fits a ``cols`` × ``rows`` terminal area."""
    try:
        width, height = terminal_size(data, border=border, error=error)
    except QRTooLarge:
        return False
    return width <= cols and height <= rows


def render_terminal(
    data: bytes | str, *, border: int = 2, error: str = "m", ansi: bool = False
) -> str:
    """Unicode half-blocks, two modules per character cell, one line per two module rows.

    A *dark* module is drawn with the glyph (foreground), a light one is left to the
    background, so the text must be shown dark-on-light: in Textual, give the widget
    the style ``"#000000 on #ffffff"``; on a plain terminal pass ``ansi=True``, which
    wraps every line in black-on-bright-white SGR codes. Shown light-on-dark the code
    comes out inverted, which many phone scanners refuse.
    """
    _checked(1, border)
    grid = _modules(make_qr(data, error=error), border)
    if len(grid) % 2:
        grid.append([False] * len(grid[0]))
    glyphs = {(True, True): FULL_BLOCK, (True, False): UPPER_HALF,
              (False, True): LOWER_HALF, (False, False): " "}
    lines = [
        "".join(glyphs[(top, bottom)] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(grid[0::2], grid[1::2], strict=True)
    ]
    if ansi:
        lines = [f"{ANSI_DARK_ON_LIGHT}{line}{ANSI_RESET}" for line in lines]
    return "\n".join(lines)


def render_image(data: bytes | str, *, scale: int = 4, border: int = 4, error: str = "m") -> Any:
    """A Pillow greyscale image (mode ``L``) of the code: 0 = dark module, 255 = light."""
    _checked(scale, border)
    image_mod = _pillow()
    grid = _modules(make_qr(data, error=error), border)
    side = len(grid)
    pixels = bytes(0 if dark else 255 for row in grid for dark in row)
    image = image_mod.frombytes("L", (side, side), pixels)
    return image.resize((side * scale, side * scale), image_mod.Resampling.NEAREST)


def render_gif(
    frames: Iterable[bytes | str],
    fps: float = 5.0,
    *,
    scale: int = 4,
    border: int = 4,
    error: str = "m",
) -> bytes:
    """An endlessly looping animated GIF, one frame per code, all frames the same size."""
    if not 0.5 <= fps <= 30:
        raise QRError("fps must be 0.5-30", code="qr_invalid_option")
    image_mod = _pillow()
    images: Sequence[Any] = [
        render_image(f, scale=scale, border=border, error=error) for f in frames
    ]
    if not images:
        raise QRError("an animated GIF needs at least one frame", code="qr_invalid_option")
    if len(images) > MAX_GIF_FRAMES:
        raise QRTooLarge(f"an animated GIF holds at most {MAX_GIF_FRAMES} frames")
    side = max(i.width for i in images)
    canvas = []
    for image in images:
        frame = image_mod.new("L", (side, side), 255)
        offset = (side - image.width) // 2
        frame.paste(image, (offset, offset))
        canvas.append(frame)
    out = io.BytesIO()
    canvas[0].save(
        out, format="GIF", save_all=True, append_images=canvas[1:],
        duration=round(1000 / fps), loop=0, optimize=False, disposal=1,
    )
    return out.getvalue()


def presentation_codes(
    text: str,
    *,
    max_version: int = 25,
    error: str = "m",
    max_fragment: int = DEFAULT_FRAGMENT,
    frames: int | None = None,
) -> list[bytes]:
    """The codes to show for a presentation: one static code if it fits ``max_version``,
    otherwise a loop of fountain frames (by default ``2k``: any ``k``-ish of them decode).
    """
    container = encode_presentation(text)
    if max_version >= 1 and qr_version(container, error) <= max_version:
        return [container]
    encoder = FountainEncoder(container, max_fragment=max_fragment)
    return encoder.frames(frames if frames is not None else 2 * encoder.k)
