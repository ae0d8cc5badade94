"""Token Status List (draft-ietf-oauth-status-list-20): the list, its encoding, the vectors."""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vc.errors import VCError
from vc.jose import decode_compact
from vc.status_list import (
    ALLOWED_BITS,
    INVALID,
    SUSPENDED,
    VALID,
    InvalidStatusList,
    InvalidStatusValue,
    Status,
    StatusIndexOutOfRange,
    StatusList,
    StatusListError,
    StatusListTooLarge,
    status_name,
)

VECTORS_DIR = Path(__file__).parent / "vectors" / "status-list"
EXAMPLES_DIR = VECTORS_DIR / "ietf-token-status-list" / "examples"


def _vectors() -> dict[str, dict[str, Any]]:
    doc = json.loads((VECTORS_DIR / "token_status_list_vectors.json").read_text("utf-8"))
    return {v["name"]: v for v in doc["vectors"]}


VECTORS = _vectors()
LONG = ["tsl_1bit_2pow20", "tsl_2bit_2pow20", "tsl_4bit_2pow20", "tsl_8bit_2pow20"]


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _example_json(name: str) -> dict[str, Any]:
    """The JSON object after 'encoded:' in one of the draft's example files."""
    text = (EXAMPLES_DIR / name).read_text("utf-8")
    obj: dict[str, Any] = json.loads(text.split("encoded:", 1)[1])
    return obj


def _example_bytes(name: str) -> bytes:
    text = (EXAMPLES_DIR / name).read_text("utf-8")
    m = re.search(r"byte_array = \[([^\]]*)\]", text)
    assert m is not None
    return bytes(int(x, 16) for x in m.group(1).split(","))


# --- the draft appendix: 2^20-entry lists ---------------------------------------------


@pytest.mark.parametrize("name", LONG)
def test_long_vector_decodes_to_exactly_the_listed_statuses(name: str) -> None:
    v = VECTORS[name]
    sl = StatusList.decode({"bits": v["bits"], "lst": v["lst"]})
    assert sl.bits == v["bits"]
    assert sl.size == v["num_entries"] == 2**20
    for idx, status in v["set_statuses"].items():
        assert sl.get(int(idx)) == status
    nonzero = {str(i): s for i, s in sl.iter_nonzero()}
    assert nonzero == {k: s for k, s in v["set_statuses"].items() if s != 0}
    assert sl.get(2**20 - 1) == 0
    with pytest.raises(StatusIndexOutOfRange):
        sl.get(2**20)


@pytest.mark.parametrize("name", LONG)
def test_long_vector_built_from_scratch_has_the_same_bytes(name: str) -> None:
    """Same uncompressed bytes as the draft (the DEFLATE stream itself may differ between
    zlib builds at this size; the small examples below are checked byte for byte)."""
    v = VECTORS[name]
    sl = StatusList(v["bits"], v["num_entries"])
    for idx, status in v["set_statuses"].items():
        sl.set(int(idx), status)
    expected = zlib.decompress(base64.urlsafe_b64decode(v["lst"] + "=="))
    assert sl.to_bytes() == expected
    encoded = sl.encode()
    assert encoded["bits"] == v["bits"]
    assert StatusList.decode(encoded) == StatusList.decode({"bits": v["bits"], "lst": v["lst"]})
    assert len(encoded["lst"]) <= 2 * len(v["lst"])  # compressed as hard as the draft's


# --- §4.1 small examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "example"),
    [
        ("tsl_1bit_16_entries", "status_list_encoding_json.md"),
        ("tsl_2bit_12_entries", "status_list_encoding2_json.md"),
    ],
)
def test_small_examples_byte_exact_both_ways(name: str, example: str) -> None:
    v = VECTORS[name]
    statuses = v["statuses_by_index"]
    expected_bytes = bytes.fromhex(v["uncompressed_bytes_hex"])
    assert _example_bytes(example) == expected_bytes
    encoded = _example_json(example)

    sl = StatusList(v["bits"], len(statuses))
    for i, s in enumerate(statuses):
        sl.set(i, s)
    assert sl.to_bytes() == expected_bytes
    assert sl.encode() == encoded  # zlib level 9, byte for byte

    back = StatusList.decode(encoded)
    assert back.to_bytes() == expected_bytes
    assert [back.get(i) for i in range(len(statuses))] == statuses
    assert back.size == len(expected_bytes) * 8 // v["bits"]


def test_referenced_token_lookups_small() -> None:
    v = VECTORS["referenced_token_lookup_small"]
    sl = StatusList.decode(v["status_list"])
    for lookup in v["lookups"]:
        if "expected_status" in lookup:
            assert sl.get(lookup["idx"]) == lookup["expected_status"]
        else:
            assert lookup["expected"].startswith("reject")
            with pytest.raises(StatusIndexOutOfRange) as exc:
                sl.get(lookup["idx"])
            assert exc.value.code == "status_index_out_of_range"


def test_example_status_list_token_parses() -> None:
    """The draft's ES256 token: its key is not published, so parse and check claims only."""
    v = VECTORS["status_list_token_jwt_example"]
    raw = (EXAMPLES_DIR / "status_list_jwt_raw.md").read_text("utf-8")
    assert "".join(raw.split()) == v["compact_jwt"]
    jws = decode_compact(v["compact_jwt"])
    assert jws.header == v["decoded_header"]
    claims = jws.claims()
    assert claims == v["decoded_payload"]
    assert jws.header["typ"] == "statuslist+jwt"
    assert claims["ttl"] > 0 and claims["exp"] > claims["iat"]
    sl = StatusList.decode(claims["status_list"])
    assert [sl.get(i) for i in range(16)] == VECTORS["tsl_1bit_16_entries"]["statuses_by_index"]


def test_example_token_decoded_form_matches_the_draft_text() -> None:
    text = (EXAMPLES_DIR / "status_list_jwt.md").read_text("utf-8")
    header_text, payload_text = text.split("\n.\n")
    v = VECTORS["status_list_token_jwt_example"]
    assert json.loads(header_text) == v["decoded_header"]
    payload = json.loads(payload_text)
    assert payload["status_list"] == v["decoded_payload"]["status_list"]
    assert payload["sub"] == v["decoded_payload"]["sub"]


# --- bit order and round trips (hypothesis) ---------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    bits=st.sampled_from(sorted(ALLOWED_BITS)),
    size=st.integers(min_value=1, max_value=3000),
    data=st.data(),
)
def test_round_trip_and_lsb_first_layout(bits: int, size: int, data: st.DataObject) -> None:
    mask = (1 << bits) - 1
    entries = data.draw(
        st.dictionaries(
            st.integers(min_value=0, max_value=size - 1),
            st.integers(min_value=0, max_value=mask),
            max_size=200,
        )
    )
    sl = StatusList(bits, size)
    for i, s in entries.items():
        sl.set(i, s)
    raw = sl.to_bytes()
    assert len(raw) == (size * bits + 7) // 8
    per_byte = 8 // bits
    for i in range(size):  # the draft's formula, independently of the implementation
        expected = (raw[i // per_byte] >> ((i % per_byte) * bits)) & mask
        assert expected == entries.get(i, 0)
        assert sl.get(i) == expected
    encoded = sl.encode()
    assert set(encoded) == {"bits", "lst"} and encoded["bits"] == bits
    assert "=" not in encoded["lst"]
    assert zlib.decompress(base64.urlsafe_b64decode(encoded["lst"] + "==")) == raw
    back = StatusList.decode(encoded)
    assert back.to_bytes() == raw
    assert all(back.get(i) == entries.get(i, 0) for i in range(size))
    assert dict(back.iter_nonzero()) == {i: s for i, s in entries.items() if s}


@settings(max_examples=100, deadline=None)
@given(
    bits=st.sampled_from(sorted(ALLOWED_BITS)),
    ops=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), max_size=60),
)
def test_set_overwrites_only_its_own_entry(bits: int, ops: list[tuple[int, int]]) -> None:
    mask = (1 << bits) - 1
    sl = StatusList(bits, 64)
    model = [0] * 64
    for i, s in ops:
        sl.set(i, s & mask)
        model[i] = s & mask
    assert [sl.get(i) for i in range(64)] == model


# --- strict decoding and limits --------------------------------------------------------


def test_decompression_bomb_is_refused() -> None:
    bomb = zlib.compress(bytes(17 * 1024 * 1024), 9)  # 17 MiB of zeros: ~17 KB compressed
    assert len(bomb) < 64 * 1024
    with pytest.raises(StatusListTooLarge) as exc:
        StatusList.decode({"bits": 1, "lst": _b64u(bomb)})
    assert exc.value.code == "status_list_too_large"


def test_inflation_limit_is_exact() -> None:
    lst = _b64u(zlib.compress(bytes(1000), 9))
    assert StatusList.decode({"bits": 8, "lst": lst}, max_size=1000).size == 1000
    with pytest.raises(StatusListTooLarge):
        StatusList.decode({"bits": 8, "lst": lst}, max_size=999)


def test_encoded_length_limit() -> None:
    lst = _b64u(zlib.compress(bytes(range(256)) * 64, 9))
    with pytest.raises(StatusListTooLarge):
        StatusList.decode({"bits": 8, "lst": lst}, max_lst_chars=len(lst) - 1)


def test_constructor_refuses_oversized_lists() -> None:
    with pytest.raises(StatusListTooLarge):
        StatusList(8, 1025, max_size=1024)


_SMALL = b"\xb9\xa3"


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [],
        "eNrbuRgAAhcBXQ",
        {"bits": 1},
        {"lst": "eNrbuRgAAhcBXQ"},
        {"bits": 3, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": 0, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": 16, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": "1", "lst": "eNrbuRgAAhcBXQ"},
        {"bits": 1.0, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": True, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": 1, "lst": 12},
        {"bits": 1, "lst": None},
        {"bits": 1, "lst": "eNrbuRgAAhcBXQ=="},  # padded
        {"bits": 1, "lst": "eNrbuRgAAhcBXQ+/"},  # standard alphabet
        {"bits": 1, "lst": "eNrbuRgAAhcBX"},  # truncated base64
        {"bits": 1, "lst": "eNrbuRgAAhcBXR"},  # non-canonical trailing bits
        {"bits": 1, "lst": _b64u(gzip.compress(_SMALL))},  # gzip, not zlib
        {"bits": 1, "lst": _b64u(zlib.compress(_SMALL)[2:-4])},  # raw DEFLATE
        {"bits": 1, "lst": _b64u(zlib.compress(_SMALL)[:-3])},  # truncated stream
        {"bits": 1, "lst": _b64u(zlib.compress(_SMALL) + b"\x00")},  # trailing garbage
        {"bits": 1, "lst": _b64u(zlib.compress(_SMALL)[:-1] + b"\x00")},  # bad adler32
        {"bits": 1, "lst": _b64u(b"not zlib at all")},
        {"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": 5},
    ],
)
def test_malformed_status_lists_are_named_errors(obj: object) -> None:
    with pytest.raises(InvalidStatusList) as exc:
        StatusList.decode(obj)
    assert exc.value.code == "invalid_status_list"
    assert isinstance(exc.value, VCError)


def test_aggregation_uri_round_trips_and_unknown_members_are_ignored() -> None:
    sl = StatusList.from_bytes(1, _SMALL)
    enc = sl.encode(aggregation_uri="https://cra.example/statuslists")
    assert enc["aggregation_uri"] == "https://cra.example/statuslists"
    assert StatusList.decode({**enc, "future_member": {"x": 1}}) == sl


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_values_that_do_not_fit_are_refused(bits: int) -> None:
    sl = StatusList(bits, 10)
    sl.set(3, (1 << bits) - 1)
    for bad in (1 << bits, -1, 256, True, 1.0, "1"):
        with pytest.raises(InvalidStatusValue) as exc:
            sl.set(3, bad)  # type: ignore[arg-type]
        assert exc.value.code == "invalid_status_value"
    assert sl.get(3) == (1 << bits) - 1


@pytest.mark.parametrize("idx", [-1, 10, 10**30, True, "0", 0.0, None])
def test_index_outside_the_list_is_refused(idx: object) -> None:
    sl = StatusList(2, 10)
    with pytest.raises(StatusIndexOutOfRange):
        sl.get(idx)  # type: ignore[arg-type]
    with pytest.raises(StatusIndexOutOfRange):
        sl.set(idx, 1)  # type: ignore[arg-type]


def test_constructor_checks() -> None:
    for bits in (0, 3, 5, 16, True, "8"):
        with pytest.raises(InvalidStatusList):
            StatusList(bits, 8)  # type: ignore[arg-type]
    with pytest.raises(InvalidStatusList):
        StatusList(1, -1)
    assert StatusList(1, 0).encode()["bits"] == 1
    assert StatusList(2, 5).to_bytes() == b"\x00\x00"  # rounded up to whole bytes


def test_status_values_and_names() -> None:
    assert (VALID, INVALID, SUSPENDED) == (0, 1, 2)
    assert Status.SUSPENDED is SUSPENDED
    assert [status_name(v) for v in (0, 1, 2, 3, 4, 0x0C, 0x0F, 0x10, 255)] == [
        "VALID",
        "INVALID",
        "SUSPENDED",
        "APPLICATION_SPECIFIC",
        "RESERVED",
        "APPLICATION_SPECIFIC",
        "APPLICATION_SPECIFIC",
        "RESERVED",
        "RESERVED",
    ]


def test_every_error_is_a_status_list_error_with_a_code() -> None:
    import vc.status_list as m

    codes = set()
    for name in m.__all__:
        obj = getattr(m, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, StatusListError)
            assert re.fullmatch(r"[a-z][a-z0-9_]*", obj.code)
            codes.add(obj.code)
    assert {
        "invalid_status_list",
        "status_index_out_of_range",
        "status_list_expired",
        "status_list_too_large",
        "invalid_status_reference",
        "status_list_sub_mismatch",
    } <= codes
