"""The bank counter page in a real headless browser (the system Chromium, via Playwright).

A loan officer starts a pre-check, the page shows the request QR code and URI, the
resident's "wallet" reads the URI, fetches the Request Object and answers; the page
turns green with the grade and the policy decision, or red with the reason code.
The QR code is decoded back from a screenshot with zxing-cpp. Never runs
``playwright install``: it drives ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_verifier_service_support import (
    BANK_NAME,
    Bank,
    request_as_wallet_sees_it,
    running_bank,
)
from vc.qr import decode_images, decode_request_uri

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 20_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    with running_bank(tmp_path_factory.mktemp("bank")) as b:
        yield b


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package 'playwright' is not installed (a dev dependency)")
    profile = tmp_path / "chromium-profile"  # a fresh user-data-dir for every test
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        try:
            tab = context.new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            problems: list[str] = []
            tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: problems.append(str(e)))
            tab.problems = problems  # type: ignore[attr-defined]
            yield tab
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _start_precheck(page: Any, bank: Bank, purpose_en: str = "Consumer loan pre-check") -> str:
    """Open the start page, submit it, land on the counter page; return the request URI."""
    page.goto(bank.url + "/")
    assert BANK_NAME in page.inner_text("header")
    page.fill("#purpose_en", purpose_en)
    page.fill("#purpose_zh", "个人贷款预审")
    page.click("#start")
    page.wait_for_url("**/counter/*")
    page.wait_for_selector("#countdown:not(:empty)")
    uri = page.inner_text("#request-uri").strip()
    assert uri.startswith("openid4vp://")
    assert page.locator("#qr svg").count() == 1
    assert page.inner_text("#purpose-en") == purpose_en
    assert page.inner_text("#purpose-zh") == "个人贷款预审"
    assert BANK_NAME in page.inner_text("#bank")
    assert "UTC+8" in page.inner_text("#expires")
    assert "Waiting" in page.inner_text("#headline")
    return uri


def _wallet_answers(bank: Bank, uri: str, *, revoke: bool = False, seed: int = 31) -> None:
    """The resident's wallet: read the URI, fetch the Request Object, answer by direct_post."""
    issued, holder = bank.world.issue(seed)
    if revoke:
        bank.world.cra.revoke(issued.digest, "data_error")
    with httpx.Client(timeout=30) as http:
        request = request_as_wallet_sees_it(uri, http=http)
        assert request.response_uri == f"{bank.url}/response"
        response = bank.world.present(issued, holder, request)
        posted = http.post(request.response_uri, content=response.to_form_body(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 200, posted.text


def test_counter_turns_green_with_the_grade(page: Any, bank: Bank, tmp_path: Path) -> None:
    uri = _start_precheck(page, bank)

    shot = page.locator("#qr").screenshot()
    (tmp_path / "qr.png").write_bytes(shot)
    codes = decode_images([shot])
    assert len(codes) == 1
    assert decode_request_uri(codes[0]) == uri

    _wallet_answers(bank, uri, seed=31)
    page.wait_for_selector("#banner.ok")
    assert page.inner_text("#headline") == "Verified · 已验证"
    request_id = page.url.rsplit("/", 1)[1]
    result = bank.result(request_id).json()["result"]
    grade = result["claims"]["ld"]["credentialSubject"]["assessment"]["riskGrade"]
    assert page.inner_text('dd[data-path="assessment.riskGrade"]') == grade
    assert page.inner_text('dt[data-path="assessment.riskGrade"]') == "Risk grade · 风险等级"
    decision = result["policy"]["decision"]
    assert page.locator(f".decision.{decision}").count() == 1
    assert page.locator("table.checks tr.ok").count() == 9
    assert page.locator("table.checks tr.fail").count() == 0
    assert "no account is currently past due" in page.inner_text("#details").lower() or \
        "currently past due" in page.inner_text("#details").lower()
    page.screenshot(path=str(tmp_path / "counter-verified.png"), full_page=True)
    assert page.problems == []  # no script error, no CSP violation


def test_counter_turns_red_for_a_revoked_report(page: Any, bank: Bank, tmp_path: Path) -> None:
    uri = _start_precheck(page, bank)
    _wallet_answers(bank, uri, revoke=True, seed=32)
    page.wait_for_selector("#banner.fail")
    assert page.inner_text("#headline") == "Not verified · 未通过验证"
    reason = page.inner_text(".reason-box")
    assert "revoked" in reason and "征信机构已撤销该报告。" in reason
    assert page.locator("table.checks tr.fail").count() == 1
    assert page.locator("table.checks tr.not_run").count() >= 1
    assert page.locator(".decision").count() == 0
    page.screenshot(path=str(tmp_path / "counter-revoked.png"), full_page=True)
    assert page.problems == []


def test_counter_shows_hostile_text_as_text(page: Any, bank: Bank) -> None:
    """Purpose and wallet-supplied text are rendered as text: no markup, no script runs."""
    hostile = '<img src=x onerror="window.__pwned=1">'
    uri = _start_precheck(page, bank, purpose_en=hostile)
    assert page.inner_text("#purpose-en") == hostile
    state = request_as_wallet_sees_it(uri, http=bank.http).state
    posted = bank.http.post("/response", data={
        "error": "access_denied", "state": state, "error_description": hostile})
    assert posted.status_code == 200
    page.wait_for_selector("#banner.fail")
    assert hostile in page.inner_text(".reason-box")
    assert page.locator("#details img").count() == 0
    assert page.evaluate("window.__pwned") is None
