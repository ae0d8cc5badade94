"""The catalogues and the small pure helpers of the wallet app: three languages with the
same keys and placeholders, every key the code uses present, every wallet error code
worded, language guessing, the passphrase meter and value formatting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wallet.tui import format as fmt
from wallet.tui.i18n import (
    LANGUAGES,
    MISSING_OPEN,
    Translator,
    catalogue,
    language_from_env,
    placeholders,
)
from wallet.tui.strength import is_weak, level

TUI = Path(__file__).resolve().parents[1] / "wallet" / "tui"
KEY_LITERAL = re.compile(r"""(?:\bt|\btr|self\.t|screen\.t|self\.app\.tr|app\.tr)\(\s*"([a-z_]+(?:\.[a-z0-9_]+)+)"|"(key\.[a-z_]+)"|_KEY\s*=\s*"([a-z_.]+)\"""")


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = catalogue("en")
    for language in LANGUAGES:
        other = catalogue(language)
        assert set(other) == set(english), language
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), (language, key)
            assert other[key].strip(), (language, key)


def test_every_key_the_code_names_exists() -> None:
    used: set[str] = set()
    for path in TUI.rglob("*.py"):
        for match in KEY_LITERAL.finditer(path.read_text("utf-8")):
            used.update(g for g in match.groups() if g)
    assert len(used) > 150
    missing = sorted(k for k in used if k not in catalogue("en"))
    assert not missing, missing


def test_dynamic_keys_exist() -> None:
    """Keys built at run time: strength levels, decisions, outcomes, warning codes."""
    from wallet.tui.strength import LEVELS

    english = catalogue("en")
    for name in LEVELS:
        assert f"strength.{name}" in english
    for decision in ("approved", "declined"):
        assert f"history.decision_{decision}" in english
    for outcome in ("delivered", "rejected_by_bank", "failed", "qr", "not_sent"):
        assert f"history.outcome_{outcome}" in english
    for code in ("over_request", "linkable", "unauthenticated", "expiring_soon",
                 "expired_request", "no_match"):
        assert f"warning.{code}" in english
    for claim in ("iss", "vct", "iat", "nbf", "exp", "cnf", "status", "ld"):
        assert f"claims.top.{claim}" in english


def test_every_wallet_error_code_is_worded() -> None:
    import wallet.errors as errors

    codes = {cls.code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.WalletError)}
    codes -= {"wallet_error", "invalid_kdf_params", "invalid_record", "record_too_large",
              "holder_key_reused", "invalid_consent_event", "history_invalid"}  # never a UI path
    tr = Translator("zh-Hant-HK")
    for code in codes:
        assert tr.has(f"error.{code}"), code


def test_translator_marks_missing_keys_and_words_errors() -> None:
    tr = Translator("zh-Hans")
    assert tr("no.such.key") == f"{MISSING_OPEN}no.such.key⟧"
    assert tr("receive.tx_code", n=6) == "征信机构给你的 6 位数字代码"
    assert tr.error("wrong_passphrase", "the passphrase is wrong") == "密码不正确。"
    assert "some_new_code" in tr.error("some_new_code", "an English sentence")
    with pytest.raises(ValueError):
        Translator("fr")


def test_claim_labels_come_from_the_type_metadata() -> None:
    tr = Translator("zh-Hant-HK")
    assert tr.claim_label(("ld", "credentialSubject", "score", "grade")) == "評級"
    assert tr.claim_label(("ld", "credentialSubject", "accounts", 0)) == "信貸帳戶 1"
    assert tr.claim_label(("iss",)) == "簽發機構"
    assert Translator("en").claim_label(("cnf", "jwk", "x")) == "x"  # not in the metadata


@pytest.mark.parametrize(("env", "expected"), [
    ({"LANG": "zh_HK.UTF-8"}, "zh-Hant-HK"), ({"LANG": "zh_TW.UTF-8"}, "zh-Hant-HK"),
    ({"LANG": "zh_CN.UTF-8"}, "zh-Hans"), ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN"}, "en"),
    ({}, "en"), ({"LANG": "C.UTF-8"}, "en"),
])
def test_language_from_env(env: dict[str, str], expected: str) -> None:
    assert language_from_env(env) == expected


def test_strength_meter() -> None:
    assert level("short") == 0
    assert is_weak("password1") and is_weak("aaaaaaaa") and is_weak("12345678")
    assert not is_weak("correct horse battery staple")
    assert level("correct horse battery staple") == 5
    assert level("Kx9#mQ2!pL") >= 4


def test_value_formatting() -> None:
    tr = Translator("en")
    assert fmt.value(True, tr) == "Yes" and fmt.value(None, tr) == "—"
    name = ("ld", "credentialSubject", "identity", "nameEn")
    assert fmt.value({"surname": "CHAN", "givenNames": "Tai Man"}, tr, name) \
        == "Surname: CHAN, Given names: Tai Man"
    assert fmt.claim(("iat",), 1_800_000_000, tr) == "2027-01-15 16:00"  # Hong Kong time
    assert fmt.date(1_800_000_000) == "2027-01-15"
    assert fmt.size(4321, tr) == "4.2 KB" and fmt.size(10, tr) == "10 bytes"
    assert fmt.host("https://bank.example/response") == "bank.example"
    assert len(fmt.value("x" * 5000, tr)) == fmt.MAX_VALUE_CHARS
    assert fmt.purpose({"en": "loan", "zh-Hans": "贷款"}, "zh-Hant-HK") == "loan"
