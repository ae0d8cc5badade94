"""QR transport for requests and presentations (wire format: docs/qr.md).

Pure parts (the compact container, Base45, the fountain code) need nothing
beyond the standard library. Drawing needs ``segno`` (and Pillow for GIFs and
images); reading images needs ``zxing-cpp`` and Pillow. Those are imported only
when called; without them the call fails with ``qr_support_missing``.

The wallet and the verifier meet only here: the wallet calls
:func:`encode_presentation` / :func:`presentation_codes` and the renderers; the
verifier calls :func:`decode_images` and :func:`decode_presentation`.
"""

from .base45 import b45decode, b45encode
from .codec import (
    decode_container,
    decode_presentation_payload,
    encode_presentation,
    encode_presentation_text,
    split_presentation,
)
from .decode import (
    classify,
    decode_images,
    decode_presentation,
    decode_request_uri,
    reassemble,
)
from .errors import (
    QRCorrupted,
    QRError,
    QRForeignFrame,
    QRImageUnreadable,
    QRIncomplete,
    QRInvalidBase45,
    QRMalformed,
    QRNotEncodable,
    QRNotFound,
    QRNotPresentation,
    QRNotRequest,
    QRSupportMissing,
    QRTooLarge,
    QRTruncated,
    QRUnsupportedVersion,
)
from .fountain import DEFAULT_FRAGMENT, FountainDecoder, FountainEncoder, parse_frame
from .render import (
    fits_terminal,
    make_qr,
    presentation_codes,
    qr_version,
    render_gif,
    render_image,
    render_png,
    render_svg,
    render_terminal,
    terminal_size,
)

__all__ = [
    "DEFAULT_FRAGMENT",
    "FountainDecoder",
    "FountainEncoder",
    "QRCorrupted",
    "QRError",
    "QRForeignFrame",
    "QRImageUnreadable",
    "QRIncomplete",
    "QRInvalidBase45",
    "QRMalformed",
    "QRNotEncodable",
    "QRNotFound",
    "QRNotPresentation",
    "QRNotRequest",
    "QRSupportMissing",
    "QRTooLarge",
    "QRTruncated",
    "QRUnsupportedVersion",
    "b45decode",
    "b45encode",
    "classify",
    "decode_container",
    "decode_images",
    "decode_presentation",
    "decode_presentation_payload",
    "decode_request_uri",
    "encode_presentation",
    "encode_presentation_text",
    "fits_terminal",
    "make_qr",
    "parse_frame",
    "presentation_codes",
    "qr_version",
    "reassemble",
    "render_gif",
    "render_image",
    "render_png",
    "render_svg",
    "render_terminal",
    "split_presentation",
    "terminal_size",
]
