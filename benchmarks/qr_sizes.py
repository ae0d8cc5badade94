"""How big is a presentation as a QR code? Every encoding option, side by side, in one run.

    python -m benchmarks.qr_sizes [--runs N]

For each credential layout and claim selection (see tests/test_qr_samples.py) it prints
the bytes and the QR version at ECC M of: the plain text in byte mode; the EU-DCC
recipe (zlib of the text, Base45, alphanumeric mode); our binary framing without
compression; with raw DEFLATE; with the preset dictionary; with tokens (the final
container, docs/qr.md §3); the container as ``SC:`` Base45 text; and the animated
sequence. Then where the final container's bytes go. Salts and signatures are random,
so sizes wobble by a few bytes: each figure is the median over ``--runs`` fresh
presentations.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import zlib
from dataclasses import dataclass

from tests.test_qr_samples import Sample, make_sample
from vc import strict_json
from vc.b64 import b64u_decode, b64u_encode
from vc.qr import codec
from vc.qr.base45 import b45encode
from vc.qr.fountain import DEFAULT_FRAGMENT, FountainEncoder
from vc.qr.render import qr_version
from vc.sdjwt import digest_of

CASES = (
    ("flat", "assessment"),
    ("flat", "loan-precheck"),
    ("grouped", "assessment"),
    ("grouped", "loan-precheck"),
    ("decision", "assessment"),
    ("decision", "loan-precheck"),
    ("credit_report", "assessment"),
    ("credit_report", "loan-precheck"),
)


def _deflate(data: bytes, zdict: bytes | None) -> bytes:
    args = (9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    c = zlib.compressobj(*args, zdict) if zdict else zlib.compressobj(*args)
    return c.compress(data) + c.flush()


def _framed(seg: codec.Segments, zdict: bytes | None, compress: bool) -> bytes:
    """Our container without tokens; ``compress=False`` stores the JSON block as is."""
    block = b"".join(codec.write_varint(len(s)) + s for s in codec._json_segments(seg))
    body = _deflate(block, zdict) if compress else block
    sigs = [seg.issuer_signature] + ([seg.kb[2]] if seg.kb else [])
    return (bytes(4) + body + b"".join(codec.write_varint(len(s)) + s for s in sigs) + bytes(4))


@dataclass
class Row:
    text: int = 0
    dcc: int = 0
    framed: int = 0
    deflated: int = 0
    dictionary: int = 0
    container: int = 0
    base45: int = 0
    frames: int = 0
    parts: dict[str, int] | None = None


def _digests(value: object) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "_sd" and isinstance(item, list):
                    found += [d for d in item if isinstance(d, str)]
                elif key == "..." and isinstance(item, str):
                    found.append(item)
                else:
                    stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def breakdown(text: str, container: bytes) -> dict[str, int]:
    """Where the container's bytes go; the parts add up to ``len(container)``."""
    seg = codec.split_presentation(text)
    payload = strict_json.loads(seg.issuer_payload)
    disclosures = [strict_json.loads(d) for d in seg.disclosures]
    presented = {digest_of(b64u_encode(d)) for d in seg.disclosures}
    all_digests = _digests(payload) + [x for d in disclosures for x in _digests(d)]
    literal = [d for d in all_digests if d not in presented]
    salts = sum(len(b64u_decode(d[0])) for d in disclosures)
    jwk = payload.get("cnf", {}).get("jwk", {})
    key = sum(len(b64u_decode(jwk[c])) for c in ("x", "y") if c in jwk)
    kb = strict_json.loads(seg.kb[1]) if seg.kb else {}
    nonce = len(str(kb.get("nonce", ""))) * 6 // 8
    sigs = len(seg.issuer_signature) + (len(seg.kb[2]) if seg.kb else 0)
    header = 3 + len(codec.write_varint(len(seg.disclosures)))
    decompressor = zlib.decompressobj(-15, zdict=codec.DICTIONARY_V1)
    decompressor.decompress(container[header:])
    deflated = len(container) - header - len(decompressor.unused_data)
    framing = header + 2 + 4  # + two signature lengths + CRC-32
    raw_area = len(container) - framing - deflated - sigs
    parts = {
        "signatures (issuer + KB, raw)": sigs,
        f"undisclosed digests ({len(literal)} x 32, raw)": 32 * len(literal),
        f"disclosure salts ({len(disclosures)}, raw)": salts,
        "holder key cnf.jwk x,y (raw)": key,
        "KB nonce (raw)": nonce,
        "other raw strings": raw_area - 32 * len(literal) - salts - key - nonce,
        "JSON: names, values, structure (DEFLATE)": deflated,
        "framing: magic, version, flags, counts, CRC-32": framing,
        f"recomputed, not sent: {len(all_digests) - len(literal)} digests + sd_hash": 0,
    }
    assert sum(parts.values()) == len(container)
    return parts


def measure(sample: Sample) -> Row:
    text = sample.presentation
    seg = codec.split_presentation(text)
    container = codec.encode_presentation(text)
    encoder = FountainEncoder(container, max_fragment=DEFAULT_FRAGMENT)
    return Row(
        text=len(text),
        dcc=len(b45encode(zlib.compress(text.encode("ascii"), 9))) + 4,
        framed=len(_framed(seg, None, compress=False)),
        deflated=len(_framed(seg, None, compress=True)),
        dictionary=len(_framed(seg, codec.DICTIONARY_V1, compress=True)),
        container=len(container),
        base45=len(codec.TEXT_PREFIX) + len(b45encode(container)),
        frames=encoder.k,
        parts=breakdown(text, container),
    )


def _version_for(size: int, alnum: bool = False, error: str = "m") -> str:
    data: bytes | str = ("A" * size) if alnum else bytes(size)
    try:
        return f"v{qr_version(data, error)}"
    except codec.QRTooLarge:
        return ">v40"


def _median(rows: list[Row], field: str) -> int:
    """Median of one column over fresh presentations."""
    return int(statistics.median(getattr(r, field) for r in rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"median of {args.runs} presentations each; QR versions at ECC M "
          "(byte mode unless noted)\n")
    header = ("| layout / claims | issued SD | text | zlib+Base45 (alnum) | framed | +DEFLATE "
              "| +dictionary | **container** | SC: Base45 (alnum) | frames (v9) |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    details: list[tuple[str, dict[str, int]]] = []
    for layout, selection in CASES:
        try:
            samples = [make_sample(layout, selection) for _ in range(args.runs)]
        except BaseException as exc:  # noqa: BLE001 - pytest.skip when the builder is absent
            print(f"| {layout} / {selection} | skipped: {exc} |")
            continue
        rows = [measure(s) for s in samples]
        m = functools.partial(_median, rows)
        disclosed = samples[0].presentation.count("~") - 1
        print(
            f"| {layout} / {selection} ({disclosed} shown) | {samples[0].issued_disclosures} "
            f"| {m('text')} B {_version_for(m('text'))} "
            f"| {m('dcc')} ch {_version_for(m('dcc'), True)} "
            f"| {m('framed')} B {_version_for(m('framed'))} "
            f"| {m('deflated')} B {_version_for(m('deflated'))} "
            f"| {m('dictionary')} B {_version_for(m('dictionary'))} "
            f"| **{m('container')} B {_version_for(m('container'))}** "
            f"(L: {_version_for(m('container'), error='l')}) "
            f"| {m('base45')} ch {_version_for(m('base45'), True)} "
            f"| {m('frames')} |"
        )
        middle = sorted(rows, key=lambda r: r.container)[len(rows) // 2]
        assert middle.parts is not None
        details.append((f"{layout} / {selection}", middle.parts))
    for name, parts in details:
        total = sum(parts.values())
        print(f"\nwhere the bytes of the container go: {name} ({total} B)")
        for label, size in parts.items():
            print(f"  {size:5d} B  {100 * size / total:5.1f} %  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
