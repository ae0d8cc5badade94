"""Named rejections of the QR layer.

Every way a scanned code can be wrong has its own stable ``code``, so a bank's
counter screen can say *why* a scan was refused (a frame of another customer's
code, a cut-off image, a damaged frame) instead of failing later as a bad signature.
"""

from __future__ import annotations

from ..errors import VCError


class QRError(VCError):
    """Root of the QR-layer errors (``vc.qr``)."""

    code = "qr_invalid"
    default_message = "the QR code content is not valid"


class QRSupportMissing(QRError):
    code = "qr_support_missing"
    default_message = (
        "QR support is not installed: install the optional QR packages (segno, zxing-cpp, pillow)"
    )


class QRMalformed(QRError):
    code = "qr_malformed"
    default_message = "the QR payload is not well-formed"


class QRTruncated(QRMalformed):
    code = "qr_truncated"
    default_message = "the QR payload ends before it is complete"


class QRUnsupportedVersion(QRError):
    code = "qr_unsupported_version"
    default_message = "the QR payload uses a format version this reader does not support"


class QRCorrupted(QRError):
    code = "qr_corrupted"
    default_message = "the QR payload fails its checksum"


class QRTooLarge(QRError):
    code = "qr_too_large"
    default_message = "the QR payload or image exceeds a size limit"


class QRForeignFrame(QRError):
    code = "qr_foreign_frame"
    default_message = "a frame belongs to another animated code"


class QRIncomplete(QRError):
    code = "qr_incomplete"
    default_message = "not enough frames of the animated code were read to rebuild it"


class QRNotPresentation(QRError):
    code = "qr_not_presentation"
    default_message = "the QR code does not carry a selfcarry presentation"


class QRNotRequest(QRError):
    code = "qr_not_request"
    default_message = "the QR code does not carry an openid4vp:// presentation request"


class QRNotEncodable(QRError):
    code = "qr_not_encodable"
    default_message = "the presentation cannot be put in a QR code byte-exactly"


class QRNotFound(QRError):
    code = "qr_not_found"
    default_message = "no QR code was found in the image"


class QRImageUnreadable(QRError):
    code = "qr_image_unreadable"
    default_message = "the image cannot be read"


class QRInvalidBase45(QRMalformed):
    code = "qr_invalid_base45"
    default_message = "the text is not valid Base45 (RFC 9285)"
