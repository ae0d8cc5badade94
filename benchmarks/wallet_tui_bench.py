"""How fast the wallet's terminal app starts and unlocks, on a wallet shaped like a real one.

    python -m benchmarks.wallet_tui_bench [--runs N] [--credentials N] [--json]

Budgets (the TUI issue): cold start to the unlock screen <= 1.5 s, unlock <= 1 s, on the
reference machine (2 cores). Measured side by side, in one run:

* cold start: a fresh ``python -c`` process that starts ``WalletApp`` headless and
  reports when the unlock screen is on screen — timed from the parent, spawn to report;
  beside it, a bare interpreter start and a minimal Textual app (the floor any Textual
  app pays);
* unlock: passphrase submitted → the credentials list showing the resident's
  credentials (Argon2id with the production parameters, authenticating every vault
  record, reading the credentials), in a freshly started app 1.5 s after its unlock
  screen appeared (a resident typing; the wallet core loads meanwhile); beside it the
  worst case (submitted the instant the screen appears), a warm process, and Argon2id
  alone.

The wallet holds real credentials: a CRA simulator is served on loopback and the
credentials are received over OpenID4VCI, so the unlock reads what a resident's would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PASS = "benchmark passphrase, not secret"
REPO = Path(__file__).resolve().parents[1]

COLD_START = """
import sys, asyncio
from wallet.tui.app import WalletApp
from wallet.tui.screens.unlock import UnlockScreen

async def main():
    app = WalletApp(home=sys.argv[1], language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.screen, UnlockScreen) or not app.screen.query("#passphrase"):
            await pilot.pause(0.002)
        await pilot.pause()
        print("ready", flush=True)

asyncio.run(main())
"""

COLD_UNLOCK = """
import sys, asyncio, time
from wallet.tui.app import WalletApp
from wallet.tui.screens.credentials import CredentialsScreen
from wallet.tui.screens.unlock import UnlockScreen

async def main():
    app = WalletApp(home=sys.argv[1], language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.screen, UnlockScreen) or not app.screen.query("#passphrase"):
            await pilot.pause(0.002)
        await pilot.pause(float(sys.argv[3]))  # the resident typing
        app.screen.query_one("#passphrase").value = sys.argv[2]
        start = time.perf_counter()
        await pilot.press("enter")
        while not (isinstance(app.screen, CredentialsScreen) and app.screen.items
                   and app.screen.query("#credentials")):
            await pilot.pause(0.002)
        await pilot.pause()
        print(time.perf_counter() - start, flush=True)

asyncio.run(main())
"""

MINIMAL_TEXTUAL = """
import asyncio
from textual.app import App
from textual.widgets import Input, Static

class Minimal(App):
    def compose(self):
        yield Static("hello")
        yield Input()

async def main():
    app = Minimal()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        print("ready", flush=True)

asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(app: Any, port: int) -> Iterator[None]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _wallet_with_credentials(root: Path, count: int) -> Iterator[Path]:
    """A registry, a served CRA, and a wallet (production Argon2id) holding ``count``
    credentials received from it."""
    from hash_registry.home import init_registry, open_log
    from issuer_sim.cra import Cra
    from issuer_sim.home import init_issuer
    from issuer_sim.oid4vci import create_offer
    from issuer_sim.service import create_app
    from wallet.api import Wallet
    from wallet.vault import UNSAFE_TEST_KDF_ENV

    os.environ.pop(UNSAFE_TEST_KDF_ENV, None)  # the real parameters
    port = _free_port()
    init_registry(root / "reg")
    init_issuer(root / "cra", registry=str(root / "reg"), url=f"http://127.0.0.1:{port}")
    with Cra(root / "cra") as cra:
        log = open_log(root / "reg")
        try:
            log.admit_issuer(cra.metadata())
            keys = log.keys_document()
        finally:
            log.close()
        offers = [create_offer(cra, 100 + i) for i in range(count)]
    home = root / "resident"
    with _serve(create_app(root / "cra"), port):
        with Wallet.create(home, PASS) as wallet:
            wallet.add_registry(keys, str(root / "reg"))
            for offer in offers:
                wallet.receive(offer.uri, offer.tx_code)
        yield home


def _spawn_until_ready(code: str, *args: str) -> float:
    """Seconds from spawning a fresh interpreter to its ``ready`` line."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait(timeout=30)
    if line.strip() != "ready":
        raise RuntimeError(f"the child did not get ready: {line!r}")
    return elapsed


def _cold_unlock(home: Path, typing_s: float) -> float:
    """Unlock in a fresh process, ``typing_s`` after the unlock screen appeared."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", COLD_UNLOCK, str(home), PASS, str(typing_s)],
                         check=True, capture_output=True, text=True, env=env, cwd=REPO)
    return float(out.stdout.strip().splitlines()[-1])


def _bare_interpreter() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


async def _unlock_once(home: Path) -> float:
    from textual.widgets import Input

    from wallet.tui.app import WalletApp
    from wallet.tui.screens.credentials import CredentialsScreen
    from wallet.tui.screens.unlock import UnlockScreen

    app = WalletApp(home=home, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.screen, UnlockScreen) or not app.screen.query("#passphrase"):
            await pilot.pause(0.002)
        field = app.screen.query_one("#passphrase", Input)
        field.value = PASS
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("enter")
        while not (isinstance(app.screen, CredentialsScreen) and app.screen.items
                   and app.screen.query("#credentials")):
            await pilot.pause(0.002)
        await pilot.pause()
        return time.perf_counter() - start


def _stats(samples: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(samples), 3), "min_s": round(min(samples), 3),
            "max_s": round(max(samples), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--credentials", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from wallet.vault import PRODUCTION_KDF

    with tempfile.TemporaryDirectory(prefix="wallet-tui-bench-") as tmp, \
            _wallet_with_credentials(Path(tmp), args.credentials) as home:
        salt = secrets.token_bytes(16)
        rows: dict[str, list[float]] = {
            "cold start to unlock screen": [
                _spawn_until_ready(COLD_START, str(home)) for _ in range(args.runs)],
            "  minimal Textual app, cold": [
                _spawn_until_ready(MINIMAL_TEXTUAL) for _ in range(args.runs)],
            "  bare interpreter": [_bare_interpreter() for _ in range(args.runs)],
            "unlock to credentials list": [
                _cold_unlock(home, 1.5) for _ in range(args.runs)],
            "  same, typed at once": [_cold_unlock(home, 0.0) for _ in range(args.runs)],
            "  same, warm process": [asyncio.run(_unlock_once(home)) for _ in range(args.runs)],
        }
        argon = []
        for _ in range(args.runs):
            start = time.perf_counter()
            PRODUCTION_KDF.derive(PASS.encode(), salt)
            argon.append(time.perf_counter() - start)
        rows["  argon2id alone"] = argon

    result: dict[str, Any] = {
        "budgets_s": {"cold start to unlock screen": 1.5, "unlock to credentials list": 1.0},
        "kdf": {"memory_kib": PRODUCTION_KDF.memory_kib, "iterations": PRODUCTION_KDF.iterations,
                "lanes": PRODUCTION_KDF.lanes},
        "credentials": args.credentials,
        "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "runs": args.runs,
        "results": {name: _stats(samples) for name, samples in rows.items()},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"wallet TUI: {args.credentials} credentials, Argon2id "
          f"m={PRODUCTION_KDF.memory_kib // 1024} MiB t={PRODUCTION_KDF.iterations}; "
          f"{result['cpus']} CPUs, load {result['loadavg_1m']}; {args.runs} runs")
    print(f"{'':32} {'median':>8} {'min':>8} {'max':>8} {'budget':>8}")
    for name, st in result["results"].items():
        budget = result["budgets_s"].get(name)
        print(f"{name:32} {st['median_s']:8.3f} {st['min_s']:8.3f} {st['max_s']:8.3f} "
              f"{budget if budget is not None else '':>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
