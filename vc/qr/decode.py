"""Reading codes back: images → payloads (zxing-cpp), payloads → a presentation or a request.

:func:`decode_images` reads PNGs, other still images and every frame of an
animated GIF with the real decoder zxing-cpp (imported on use, like Pillow).
:func:`decode_presentation` turns the payloads into the exact SD-JWT+KB text,
whether they are one static code or any large enough subset of an animated
sequence's frames, in any order. :func:`decode_request_uri` accepts only an
``openid4vp://`` request. Every refusal is a named :mod:`vc.qr.errors` error.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

from .codec import MAGIC, TEXT_PREFIX, decode_presentation_payload
from .errors import (
    QRForeignFrame,
    QRImageUnreadable,
    QRMalformed,
    QRNotFound,
    QRNotPresentation,
    QRNotRequest,
    QRSupportMissing,
    QRTooLarge,
)
from .fountain import FRAME_MAGIC, FountainDecoder

MAX_IMAGE_BYTES: Final = 32 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 40_000_000
MAX_IMAGE_FRAMES: Final = 1000
MAX_CODES: Final = 10_000
MAX_REQUEST_URI: Final = 4096
REQUEST_SCHEME: Final = "openid4vp"

ImageSource = str | os.PathLike[str] | bytes
Kind = Literal["presentation", "frame", "request", "unknown"]


def _readers() -> tuple[Any, Any]:
    try:
        import zxingcpp  # optional extra, imported on use
        from PIL import Image
    except ImportError as exc:
        raise QRSupportMissing(
            "reading QR images needs the 'zxing-cpp' and 'pillow' packages"
        ) from exc
    return zxingcpp, Image


def _open(source: ImageSource, image_mod: Any) -> Any:
    try:
        if isinstance(source, bytes | bytearray):
            if len(source) > MAX_IMAGE_BYTES:
                raise QRTooLarge(f"an image is larger than {MAX_IMAGE_BYTES} bytes")
            stream: Any = io.BytesIO(source)
        else:
            path = Path(source)
            if path.stat().st_size > MAX_IMAGE_BYTES:
                raise QRTooLarge(f"{path.name} is larger than {MAX_IMAGE_BYTES} bytes")
            stream = io.BytesIO(path.read_bytes())
        image = image_mod.open(stream)
    except QRTooLarge:
        raise
    except (OSError, ValueError, image_mod.DecompressionBombError) as exc:
        raise QRImageUnreadable(f"the image cannot be read ({type(exc).__name__})") from exc
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise QRTooLarge(f"an image has more than {MAX_IMAGE_PIXELS} pixels")
    if getattr(image, "n_frames", 1) > MAX_IMAGE_FRAMES:
        raise QRTooLarge(f"an animated image has more than {MAX_IMAGE_FRAMES} frames")
    return image


def _codes_in(image: Any, zxingcpp: Any, image_mod: Any) -> list[bytes]:
    """Every QR payload in every frame of one image, in frame order."""
    found: list[bytes] = []
    try:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frame = image.convert("L")
            for barcode in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode):
                if barcode.valid:
                    found.append(bytes(barcode.bytes))
    except (OSError, ValueError, EOFError, image_mod.DecompressionBombError) as exc:
        raise QRImageUnreadable(f"the image cannot be decoded ({type(exc).__name__})") from exc
    return found


def decode_images(sources: Iterable[ImageSource]) -> list[bytes]:
    """The raw payload of every QR code in the images (PNG, GIF frames, …), duplicates once.

    An image in which no code can be read is ``qr_not_found``; an animated GIF counts
    as found if any of its frames holds a code.
    """
    zxingcpp, image_mod = _readers()
    if isinstance(sources, bytes | str | os.PathLike):
        sources = [sources]
    payloads: dict[bytes, None] = {}
    for source in sources:
        image = _open(source, image_mod)
        try:
            codes = _codes_in(image, zxingcpp, image_mod)
        finally:
            image.close()
        if not codes:
            raise QRNotFound("no QR code could be read in an image")
        for code in codes:
            payloads.setdefault(code, None)
            if len(payloads) > MAX_CODES:
                raise QRTooLarge(f"more than {MAX_CODES} distinct codes")
    return list(payloads)


def classify(code: bytes | str) -> Kind:
    """What a scanned payload is, from its first bytes (docs/qr.md §1)."""
    raw = code.encode("utf-8") if isinstance(code, str) else bytes(code)
    if raw[:1] == bytes([MAGIC]) or raw.startswith(TEXT_PREFIX.encode("ascii")):
        return "presentation"
    if raw[:1] == bytes([FRAME_MAGIC]):
        return "frame"
    if raw[: len(REQUEST_SCHEME) + 3].lower() == f"{REQUEST_SCHEME}://".encode("ascii"):
        return "request"
    return "unknown"


def reassemble(frames: Iterable[bytes]) -> bytes:
    """The message an animated sequence carries; any order, duplicates ignored."""
    decoder = FountainDecoder()
    for frame in frames:
        decoder.add(frame)
    return decoder.message()


def decode_presentation(codes: Iterable[bytes | str]) -> str:
    """The exact SD-JWT+KB text from one static code or from animated-code frames.

    All codes must belong to one presentation: a second, different static code or a
    frame of another sequence is ``qr_foreign_frame``; too few frames ``qr_incomplete``.
    """
    raw = [c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in codes]
    if not raw:
        raise QRNotFound("no codes were given")
    if len(raw) > MAX_CODES:
        raise QRTooLarge(f"more than {MAX_CODES} codes")
    kinds = {classify(c) for c in raw}
    if kinds - {"presentation", "frame"}:
        raise QRNotPresentation("a code is not a selfcarry presentation or animated frame")
    if kinds == {"presentation", "frame"}:
        raise QRMalformed("a static presentation code and animated frames were mixed")
    if kinds == {"presentation"}:
        distinct = set(raw)
        if len(distinct) > 1:
            raise QRForeignFrame("the codes come from more than one presentation")
        return decode_presentation_payload(raw[0])
    message = reassemble(raw)
    return decode_presentation_payload(message)


def decode_request_uri(code: bytes | str) -> str:
    """An ``openid4vp://`` authorization request URI carrying ``client_id`` and a request.

    The request itself (``request_uri`` to fetch, or ``request`` by value) is checked
    by the wallet; this only refuses what is not a request at all.
    """
    if isinstance(code, bytes | bytearray):
        try:
            code = bytes(code).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QRNotRequest("the code is not text") from exc
    if not isinstance(code, str):
        raise QRNotRequest("the code is not text")
    if len(code) > MAX_REQUEST_URI:
        raise QRTooLarge(f"the request URI is longer than {MAX_REQUEST_URI} characters")
    if not code.isascii() or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in code):
        raise QRNotRequest("a request URI is printable ASCII without spaces")
    try:
        parts = urlsplit(code)
        params = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise QRNotRequest("the request URI cannot be parsed") from exc
    if parts.scheme.lower() != REQUEST_SCHEME:
        raise QRNotRequest(f"the code is not an {REQUEST_SCHEME}:// request")
    if any(len(v) != 1 for v in params.values()):
        raise QRNotRequest("a request parameter is repeated")
    if not params.get("client_id", [""])[0]:
        raise QRNotRequest("the request URI has no client_id")
    if not (params.get("request_uri", [""])[0] or params.get("request", [""])[0]):
        raise QRNotRequest("the request URI has neither request_uri nor request")
    return code

