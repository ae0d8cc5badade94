"""Claims path pointers (OpenID4VP 1.0 §7) and the CLI's dotted spelling of them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vc.dcql import (
    InvalidClaimPath,
    InvalidDcql,
    covers,
    from_dotted,
    parse_path,
    select,
    to_dotted,
    value_matches,
)
from vc.errors import LimitExceeded

# The credential of §7.3 ("Claims Path Pointer Example"), re-typed.
ARTHUR: dict[str, Any] = {
    "name": "Arthur Dent",
    "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
    "degrees": [
        {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
        {"type": "Master of Science", "university": "University of Betelgeuse"},
    ],
    "nationalities": ["British", "Betelgeusian"],
}


def values(path: list[Any]) -> list[Any]:
    return [v for _, v in select(ARTHUR, path)]


class TestSpecExamples:
    """§7.3: each pointer and the claims it selects."""

    def test_name(self) -> None:
        assert select(ARTHUR, ["name"]) == [(("name",), "Arthur Dent")]

    def test_address_object_with_its_subclaims(self) -> None:
        assert values(["address"]) == [ARTHUR["address"]]

    def test_nested_member(self) -> None:
        assert values(["address", "street_address"]) == ["42 Market Street"]

    def test_wildcard_selects_every_type(self) -> None:
        assert select(ARTHUR, ["degrees", None, "type"]) == [
            (("degrees", 0, "type"), "Bachelor of Science"),
            (("degrees", 1, "type"), "Master of Science"),
        ]

    def test_index_selects_the_second_nationality(self) -> None:
        assert select(ARTHUR, ["nationalities", 1]) == [(("nationalities", 1), "Betelgeusian")]


class TestProcessingErrors:
    """§7.1: where processing aborts with an error, nothing is selected."""

    def test_missing_key_empties_the_selection(self) -> None:
        assert select(ARTHUR, ["nickname"]) == []

    def test_string_on_a_non_object_aborts(self) -> None:
        assert select(ARTHUR, ["name", "first"]) == []
        # one non-object among the selected elements aborts the whole pointer
        assert select({"a": [{"x": 1}, "plain"]}, ["a", None, "x"]) == []

    def test_null_on_a_non_array_aborts(self) -> None:
        assert select(ARTHUR, ["address", None]) == []

    def test_index_on_a_non_array_aborts(self) -> None:
        assert select(ARTHUR, ["address", 0]) == []

    def test_index_past_the_end_empties_the_selection(self) -> None:
        assert select(ARTHUR, ["nationalities", 2]) == []

    def test_key_missing_in_some_elements_keeps_the_others(self) -> None:
        data = {"a": [{"x": 1}, {"y": 2}, {"x": 3}]}
        assert select(data, ["a", None, "x"]) == [(("a", 0, "x"), 1), (("a", 2, "x"), 3)]

    def test_other_component_types_abort(self) -> None:
        assert select(ARTHUR, ["nationalities", True]) == []
        assert select(ARTHUR, ["nationalities", -1]) == []
        assert select(ARTHUR, ["nationalities", 1.0]) == []  # type: ignore[list-item]

    def test_root_must_be_an_object(self) -> None:
        assert select(["x"], [0]) == []


class TestParsePath:
    def test_accepts_strings_indices_and_null(self) -> None:
        assert parse_path(["a", 0, None]) == ("a", 0, None)

    @pytest.mark.parametrize(
        "bad",
        [[], "a.b", ["a", -1], ["a", True], ["a", 1.5], ["a", {"k": 1}], ["a", ["b"]], None],
    )
    def test_refuses_what_is_not_a_pointer(self, bad: Any) -> None:
        with pytest.raises(InvalidDcql) as err:
            parse_path(bad)
        assert err.value.code == "invalid_dcql"

    def test_length_and_component_limits(self) -> None:
        with pytest.raises(LimitExceeded):
            parse_path(["a"] * 33)
        with pytest.raises(LimitExceeded):
            parse_path(["x" * 1025])
        with pytest.raises(InvalidDcql):
            parse_path(["a", 10**7])


class TestCovers:
    def test_prefix_and_wildcards(self) -> None:
        assert covers(("a", "b"), ("a", "b"))
        assert covers(("a",), ("a", "b", 3))
        assert covers(("a", None, "c"), ("a", 7, "c"))
        assert covers(("a", None), ("a", None))
        assert not covers(("a", 1), ("a", None))  # one index does not cover all
        assert not covers(("a", "b"), ("a",))
        assert not covers(("a", None), ("a", "b"))
        assert not covers(("a", 1), ("a", True))


class TestValueMatching:
    """§6.3: the type and the value must both match."""

    def test_exact_type_and_value(self) -> None:
        assert value_matches("Doe", ["Doe"])
        assert value_matches(3, [1, 3])
        assert value_matches(True, [True])

    def test_no_cross_type_equality(self) -> None:
        assert not value_matches(1, [True])
        assert not value_matches(True, [1])
        assert not value_matches(1.0, [1])
        assert not value_matches("1", [1])
        assert not value_matches({"a": 1}, ["a"])


class TestDotted:
    """CLI.md: claim paths are DCQL paths joined with '.'."""

    def test_cli_examples(self) -> None:
        assert from_dotted("ld.credentialSubject.score.grade") == (
            "ld",
            "credentialSubject",
            "score",
            "grade",
        )
        assert from_dotted("ld.credentialSubject.accounts.0") == (
            "ld",
            "credentialSubject",
            "accounts",
            0,
        )
        assert to_dotted(("ld", "credentialSubject", "accounts", 0)) == "ld.credentialSubject.accounts.0"

    def test_wildcard_is_a_star(self) -> None:
        assert from_dotted("ld.credentialSubject.accounts.*.creditLimit")[3] is None
        assert to_dotted(("a", None, "b")) == "a.*.b"

    @pytest.mark.parametrize("bad", ["", "a..b", ".a", "a.", "a.01", "a.99999999"])
    def test_refuses_malformed_text(self, bad: str) -> None:
        with pytest.raises(InvalidClaimPath):
            from_dotted(bad)

    @pytest.mark.parametrize("key", ["a.b", "12", "*", ""])
    def test_refuses_keys_it_cannot_spell(self, key: str) -> None:
        with pytest.raises(InvalidClaimPath):
            to_dotted(("ld", key))

    def test_refuses_empty_and_odd_components(self) -> None:
        with pytest.raises(InvalidClaimPath):
            to_dotted(())
        with pytest.raises(InvalidClaimPath):
            to_dotted(("a", True))
        with pytest.raises(InvalidClaimPath):
            to_dotted(("a", -1))

    @given(
        st.lists(
            st.one_of(
                st.none(),
                st.integers(min_value=0, max_value=10**6),
                st.text(min_size=1, max_size=12).filter(
                    lambda s: "." not in s and s != "*" and not (s.isascii() and s.isdigit())
                ),
            ),
            min_size=1,
            max_size=10,
        )
    )
    def test_round_trip(self, path: list[Any]) -> None:
        assert from_dotted(to_dotted(path)) == tuple(path)


@given(
    st.recursive(
        st.one_of(st.integers(), st.text(max_size=4), st.booleans(), st.none()),
        lambda kids: st.one_of(
            st.lists(kids, max_size=4), st.dictionaries(st.sampled_from("abc"), kids, max_size=3)
        ),
        max_leaves=20,
    ),
    st.lists(st.one_of(st.none(), st.integers(0, 4), st.sampled_from("abc")), min_size=1, max_size=5),
)
def test_every_selected_path_leads_back_to_its_value(data: Any, path: list[Any]) -> None:
    """Property: each (concrete path, value) that select() returns is really there."""
    for where, value in select({"root": data}, ["root", *path]):
        node: Any = {"root": data}
        for comp in where:
            node = node[comp]
        assert node == value
        assert covers(("root", *path), where)
