"""Regenerate the wallet guide's screenshots: ``python -m docs.wallet_screenshots``.

Drives the real terminal app (:class:`wallet.tui.app.WalletApp`) under Textual's pilot
against real parties on loopback (a witnessed registry, a CRA service, a bank service;
see ``examples/scenarios/_world.py``), and saves what the terminal shows with
``app.save_screenshot()`` as SVG files in ``docs/img/``. Nothing is drawn by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Input

from examples.scenarios._world import PASSPHRASE, PURPOSE, World, build_world
from issuer_sim.oid4vci import create_offer
from verifier import Verifier
from wallet.api import Wallet
from wallet.tui.app import WalletApp

OUT = Path(__file__).resolve().parent / "img"
SIZE = (100, 32)


async def wait_for(pilot: Any, predicate: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + 60
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} (screen {pilot.app.screen})")
        await pilot.pause(0.05)


async def wait_screen(pilot: Any, name: str) -> Any:
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == name, name)
    await pilot.pause(0.3)
    return pilot.app.screen


async def fill(pilot: Any, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    field.cursor_position = len(text)
    await pilot.pause()


def shot(app: WalletApp, name: str) -> None:
    app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"docs/img/{name}.svg")


async def tour(world: World, home: Path) -> None:
    app = WalletApp(home=home, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, "UnlockScreen")
        await fill(pilot, "#passphrase", "")
        shot(app, "wallet-unlock")
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_screen(pilot, "CredentialsScreen")

        offer = create_offer(world.cra, 7)
        await pilot.press("r")
        await wait_screen(pilot, "ReceiveScreen")
        await fill(pilot, "#offer", offer.uri)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("#tx-code"), "the code field")
        await fill(pilot, "#tx-code", offer.tx_code or "")
        await pilot.press("enter")
        detail = await wait_screen(pilot, "DetailScreen")
        await wait_for(pilot, lambda: detail.detail is not None, "the credential detail")
        await pilot.pause(0.3)
        shot(app, "wallet-received")
        await pilot.press("escape")
        credentials = await wait_screen(pilot, "CredentialsScreen")
        await wait_for(pilot, lambda: credentials.items, "the credential in the list")
        shot(app, "wallet-credentials")

        with Verifier.from_home(world.bank_home) as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
        await pilot.press("o")
        await wait_screen(pilot, "OpenRequestScreen")
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        await wait_screen(pilot, "ReviewScreen")
        shot(app, "wallet-review")

        await pilot.press("p")
        await wait_screen(pilot, "PreviewScreen")
        shot(app, "wallet-preview")
        await pilot.press("a")
        delivery = await wait_screen(pilot, "DeliveryScreen")
        await wait_for(pilot, lambda: delivery.delivery is not None or delivery.failed,
                       "the bank's answer")
        await pilot.pause(0.3)
        shot(app, "wallet-delivered")
        await pilot.press("h")
        history = await wait_screen(pilot, "HistoryScreen")
        await wait_for(pilot, lambda: history.rows, "the history rows")
        shot(app, "wallet-history")


async def unauthenticated(world: World, home: Path) -> None:
    app = WalletApp(home=home, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, "UnlockScreen")
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_screen(pilot, "CredentialsScreen")
        with Verifier.from_home(world.bank_home) as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
        await pilot.press("o")
        await wait_screen(pilot, "OpenRequestScreen")
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        await wait_screen(pilot, "ReviewScreen")
        shot(app, "wallet-review-unauthenticated")


def resident(world: World, name: str, *, with_credential: bool = False) -> Path:
    home = world.root / name
    wallet = Wallet.create(home, PASSPHRASE)
    try:
        wallet.add_registry(world.keys, str(world.registry_home))
        if with_credential:
            world.issue_to_wallet(seed=5, wallet=wallet)
    finally:
        wallet.close()
    return home


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with build_world(serve_bank=True) as world:
        asyncio.run(tour(world, resident(world, "resident")))
    with build_world(serve_bank=True, admit_bank=False) as world:
        asyncio.run(unauthenticated(world, resident(world, "resident", with_credential=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
