"""End to end: presentation → QR images → zxing-cpp → exact text → full SD-JWT VC verification.

Every code here is drawn to an image and read back with the real decoder; rejections
(truncated, corrupted, foreign, incomplete) are asserted by their names.
"""

from __future__ import annotations

import random
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_qr_render import rasterize_svg, rasterize_terminal
from tests.test_qr_samples import Sample, make_sample, require_qr_stack, scan
from vc.b64 import b64u_encode
from vc.qr import (
    FountainEncoder,
    classify,
    decode_images,
    decode_presentation,
    decode_request_uri,
    encode_presentation,
    encode_presentation_text,
    fits_terminal,
    presentation_codes,
    qr_version,
    render_gif,
    render_png,
    render_svg,
    render_terminal,
)
from vc.qr.errors import QRError

pytestmark = pytest.mark.usefixtures("qr_stack")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def qr_stack() -> None:
    require_qr_stack()


def _code(call: object, *args: object) -> str:
    with pytest.raises(QRError) as info:
        call(*args)  # type: ignore[operator]
    return info.value.code


def _verified(sample: Sample, codes: list[bytes]) -> None:
    text = decode_presentation(codes)
    assert text == sample.presentation
    subject = sample.verify(text).claims["ld"]["credentialSubject"]
    assert subject["assessment"]["riskGrade"] == "B"


# --------------------------------------------------------------------------- static codes


@pytest.mark.parametrize(
    ("layout", "selection", "max_version"),
    [
        ("decision", "loan-precheck", 25),   # the goal: one code of version <= 25 at ECC M
        ("decision", "assessment", 25),
        ("grouped", "assessment", 25),
        ("grouped", "loan-precheck", 30),
        ("flat", "loan-precheck", 30),
        ("flat", "assessment", 30),
    ],
)
def test_static_code_png(layout: str, selection: str, max_version: int) -> None:
    sample = make_sample(layout, selection)
    container = encode_presentation(sample.presentation)
    assert qr_version(container, "m") <= max_version
    codes = scan(render_png(container, scale=2))
    assert codes == [container]
    _verified(sample, codes)


def test_static_code_from_the_credit_report_builder() -> None:
    """The real builder's credential (v29 at M when measured; its size is not ours to pin)."""
    sample = make_sample("credit_report", "loan-precheck")
    container = encode_presentation(sample.presentation)
    _verified(sample, scan(render_png(container, scale=2)))


def test_static_code_svg_and_base45_text_form() -> None:
    sample = make_sample("decision", "loan-precheck")
    container = encode_presentation(sample.presentation)
    _verified(sample, scan(rasterize_svg(render_svg(container, scale=2), scale=2)))
    text_form = encode_presentation_text(sample.presentation)
    assert qr_version(text_form, "m") <= 25
    codes = scan(render_png(text_form, scale=2))
    assert codes == [text_form.encode("ascii")]
    _verified(sample, codes)


def test_presentation_codes_chooses_static_or_animated() -> None:
    small = make_sample("decision", "loan-precheck")
    assert presentation_codes(small.presentation) == [encode_presentation(small.presentation)]
    big = make_sample("flat", "loan-precheck")
    frames = presentation_codes(big.presentation, max_version=9)
    assert len(frames) >= 10 and all(classify(f) == "frame" for f in frames)
    assert all(qr_version(f) <= 9 for f in frames)


# --------------------------------------------------------------------------- animated codes


@pytest.fixture(scope="module")
def animated() -> tuple[Sample, FountainEncoder]:
    sample = make_sample("flat", "loan-precheck")
    return sample, FountainEncoder(encode_presentation(sample.presentation))


def test_animated_frames_fit_a_100x30_terminal(animated: tuple[Sample, FountainEncoder]) -> None:
    _, encoder = animated
    for frame in encoder.frames(3 * encoder.k):
        assert qr_version(frame, "m") <= 9
        assert fits_terminal(frame, 100, 30, border=2)


def test_animated_third_dropped_and_shuffled_pngs(
    animated: tuple[Sample, FountainEncoder],
) -> None:
    sample, encoder = animated
    frames = encoder.frames(3 * encoder.k)
    rng = random.Random(secrets.randbits(32))
    rng.shuffle(frames)
    kept = frames[: len(frames) - len(frames) // 3]
    images = [render_png(f, scale=2) for f in kept]
    _verified(sample, decode_images(images))


def test_animated_gif(animated: tuple[Sample, FountainEncoder]) -> None:
    sample, encoder = animated
    frames = encoder.frames(3 * encoder.k)
    random.Random(7).shuffle(frames)
    gif = render_gif(frames[: 2 * encoder.k], fps=5, scale=2)
    codes = decode_images([gif])
    assert len(codes) == 2 * encoder.k
    _verified(sample, codes)


def test_animated_terminal_frames(animated: tuple[Sample, FountainEncoder]) -> None:
    sample, encoder = animated
    drawings = [render_terminal(f, border=2) for f in encoder.frames(encoder.k + 2, start=3)]
    _verified(sample, scan(*(rasterize_terminal(d) for d in drawings)))


# --------------------------------------------------------------------------- named rejections


def test_truncated_payload_is_rejected() -> None:
    container = encode_presentation(make_sample("decision", "assessment").presentation)
    codes = scan(render_png(container[:-10]))
    assert _code(decode_presentation, codes) == "qr_truncated"


def test_corrupted_frame_is_rejected(animated: tuple[Sample, FountainEncoder]) -> None:
    _, encoder = animated
    frames = encoder.frames(encoder.k + 2)
    damaged = bytearray(frames[1])
    damaged[40] ^= 0x55
    frames[1] = bytes(damaged)
    codes = scan(*(render_png(f, scale=2) for f in frames))
    assert _code(decode_presentation, codes) == "qr_corrupted"


def test_frame_from_another_presentation_is_rejected(
    animated: tuple[Sample, FountainEncoder],
) -> None:
    _, encoder = animated
    other = FountainEncoder(encode_presentation(make_sample("flat", "loan-precheck").presentation))
    frames = [*encoder.frames(encoder.k), other.frame(2)]
    codes = scan(*(render_png(f, scale=2) for f in frames))
    assert _code(decode_presentation, codes) == "qr_foreign_frame"


def test_two_different_static_codes_are_rejected() -> None:
    a = encode_presentation(make_sample("decision").presentation)
    b = encode_presentation(make_sample("decision").presentation)
    assert _code(decode_presentation, scan(render_png(a), render_png(b))) == "qr_foreign_frame"


def test_too_few_frames_is_incomplete(animated: tuple[Sample, FountainEncoder]) -> None:
    _, encoder = animated
    codes = scan(*(render_png(f, scale=2) for f in encoder.frames(encoder.k - 1, start=5)))
    assert _code(decode_presentation, codes) == "qr_incomplete"


def test_mixed_and_foreign_payloads() -> None:
    container = encode_presentation(make_sample("decision").presentation)
    frame = FountainEncoder(container).frame(1)
    assert _code(decode_presentation, [container, frame]) == "qr_malformed"
    assert _code(decode_presentation, [b"openid4vp://?client_id=a&request_uri=b"]) == (
        "qr_not_presentation"
    )
    assert _code(decode_presentation, []) == "qr_not_found"


# --------------------------------------------------------------------------- request direction


def _request_uri(client_id: str) -> str:
    rid = b64u_encode(secrets.token_bytes(16))
    return (f"openid4vp://?client_id={client_id}"
            f"&request_uri=https%3A%2F%2Fbank.example%2Fr%2F{rid}")


def test_request_uri_round_trip_and_version() -> None:
    short = _request_uri("x509_san_dns%3Abank.example")
    pinned = _request_uri("x509_hash%3A" + b64u_encode(secrets.token_bytes(32)))
    assert qr_version(short, "m") <= 7     # the "small code"
    assert qr_version(pinned, "m") <= 8    # a 43-character x509_hash costs one version more
    for uri in (short, pinned):
        codes = scan(render_png(uri))
        assert classify(codes[0]) == "request"
        assert decode_request_uri(codes[0]) == uri


@pytest.mark.parametrize(
    "bad",
    [
        "https://bank.example/?client_id=a&request_uri=b",
        "openid4vp://?request_uri=https%3A%2F%2Fb",
        "openid4vp://?client_id=a",
        "openid4vp://?client_id=a&client_id=b&request_uri=c",
        "openid4vp://?client_id=a&request_uri=b c",
        "openid4vp://?client_id=a&request_uri=b\n",
        b"\xc5\x01\x03",
        b"openid4vp://?client_id=\xff&request_uri=b",
        "openid4vp://?" + "a" * 5000,
    ],
)
def test_request_uri_refusals(bad: str | bytes) -> None:
    assert _code(decode_request_uri, bad) in {"qr_not_request", "qr_too_large"}


def test_presentation_qr_is_not_a_request() -> None:
    container = encode_presentation(make_sample("decision").presentation)
    assert _code(decode_request_uri, scan(render_png(container))[0]) == "qr_not_request"


# --------------------------------------------------------------------------- optional extra


def test_core_works_without_the_qr_packages() -> None:
    """With segno, zxing-cpp and Pillow unimportable, `import vc.qr` and the pure codec
    still work, and drawing or reading fails with the named error qr_support_missing."""
    script = textwrap.dedent(f"""
        import sys
        for name in ("segno", "zxingcpp", "PIL", "PIL.Image"):
            sys.modules[name] = None  # makes `import name` raise ImportError
        import vc, vc.qr
        from vc.qr import encode_presentation, decode_container, render_png, decode_images
        from vc.qr.errors import QRError
        text = {make_sample("decision").presentation!r}
        assert decode_container(encode_presentation(text)) == text
        for call in (lambda: render_png(b"x"), lambda: decode_images([b"x"])):
            try:
                call()
            except QRError as exc:
                assert exc.code == "qr_support_missing", exc.code
            else:
                raise AssertionError("expected qr_support_missing")
        assert "segno" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
