"""`make demo`: a Hong Kong resident's loan pre-check at a Shenzhen bank, end to end.

Starts, as separate processes on loopback: the hash registry (SQLite, with its
witness), a CRA issuance service, and a bank's verifier service with its counter
page. Then provisions a resident's wallet through a real credential offer, has the
bank open a loan pre-check request, and either launches the wallet's terminal app
at the request review (interactive), or — with no terminal, or ``DEMO_AUTO=1`` —
approves the default selection, prints the bank's verdict and every check, and
exits 0 only if the bank verified the presentation. Quitting stops every process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

PASSPHRASE = "demo passphrase: correct horse battery staple"  # noqa: S105 — a demo vault
BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else shutil.which(name) or name


class Demo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, "SELFCARRY_PASSPHRASE": PASSPHRASE}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports = {"registry": _port(), "cra": _port(), "bank": _port()}
        self.url = {k: f"http://127.0.0.1:{p}" for k, p in self.ports.items()}
        self.token = ""

    def run(self, tool: str, *args: str, home: str, capture: bool = True) -> str:
        cmd = [_tool(tool), "--home", str(self.root / home), *args]
        result = subprocess.run(cmd, env=self.env, capture_output=capture, text=True,
                                timeout=120, check=False)
        if result.returncode != 0:
            raise SystemExit(f"demo: `{tool} {' '.join(args)}` failed:\n{result.stderr}")
        return result.stdout

    def start(self, tool: str, *args: str, home: str, health: str) -> None:
        log = open(self.root / f"{home}.log", "wb")
        proc = subprocess.Popen([_tool(tool), "--home", str(self.root / home), *args],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"demo: {tool} exited; see {self.root / f'{home}.log'}")
            try:
                if httpx.get(health, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit(f"demo: {tool} did not start in time")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def write(self, name: str, text: str) -> str:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def provision(self) -> None:
        say("1. The platform: a witnessed hash registry (Shenzhen operator, HK witness)")
        self.run("hash-registry", "init", home="registry")
        self.start("hash-registry", "serve", "--port", str(self.ports["registry"]),
                   home="registry", health=f"{self.url['registry']}/checkpoint")
        keys = self.write("registry-keys.json", self.run("hash-registry", "keys", "--json",
                                                         home="registry"))

        say("2. A credit reference agency (TransUnion-HK style), admitted by the operator")
        self.run("issuer-sim", "init", "--registry", self.url["registry"], "--url",
                 self.url["cra"], home="cra")
        cra = self.write("cra.json", self.run("issuer-sim", "jwks", home="cra"))
        self.run("hash-registry", "admit-issuer", cra, home="registry")
        self.start("issuer-sim", "serve", "--port", str(self.ports["cra"]), home="cra",
                   health=f"{self.url['cra']}/.well-known/jwt-vc-issuer")

        say("3. A Shenzhen bank, admitted too, trusting that CRA and that registry")
        self.run("verifier", "init", "--client-id", "https://loans.shenzhen-bank.example",
                 "--name", "Shenzhen Example Bank 深圳示例银行", "--url", self.url["bank"],
                 home="bank")
        bank = self.write("bank.json", self.run("verifier", "identity", home="bank"))
        self.run("hash-registry", "admit-verifier", bank, home="registry")
        self.run("verifier", "trust", "add-issuer", cra, "--name", "TransUnion HK (simulated)",
                 home="bank")
        self.run("verifier", "trust", "add-registry", keys, "--url", self.url["registry"],
                 home="bank")
        self.start("verifier", "serve", "--port", str(self.ports["bank"]), home="bank",
                   health=f"{self.url['bank']}/healthz")

        say("4. The resident: a new wallet receives the report through a credential offer")
        self.run("wallet", "init", home="resident")
        self.run("wallet", "trust", "add-registry", keys, "--url", self.url["registry"],
                 home="resident")
        offer = json.loads(self.run("issuer-sim", "offer", "--seed", "7", "--json", home="cra"))
        received = json.loads(self.run("wallet", "receive", offer["uri"], "--tx-code",
                                       offer["tx_code"], "--json", home="resident"))
        say(f"   stored {received['id']}: anchored at registry index "
            f"{received['provenance']['index']}, cosigned by "
            f"{', '.join(received['provenance']['cosigners'])}")

    def bank_request(self) -> dict[str, Any]:
        say("5. At the counter, the loan officer starts a pre-check")
        request = json.loads(self.run(
            "verifier", "request", "--purpose", "Consumer loan pre-check / 个人消费贷款预审",
            "--json", home="bank"))
        from verifier.home import load_signing_key
        from verifier.service import counter_token

        self.token = counter_token(load_signing_key(self.root / "bank"), request["id"])
        say(f"   counter page: {self.url['bank']}/counter/{request['id']}?token={self.token}")
        say(f"   request URI:  {request['uri']}")
        return dict(request)

    def auto(self, request: dict[str, Any]) -> int:
        say("6. The wallet reviews the request and approves the default selection (DEMO_AUTO)")
        out = json.loads(self.run("wallet", "present", request["uri"], "--send", "--json",
                                  home="resident"))
        say(f"   {'authenticated' if out['authenticated'] else 'UNAUTHENTICATED'} bank: "
            f"{out['bank']}")
        say(f"   disclosed: {', '.join(out['disclosed'])}")
        result = httpx.get(f"{self.url['bank']}/result/{request['id']}", headers={
            "Authorization": f"Bearer {self.token}"}).json().get("result") or {}
        say("7. What the bank concluded")
        for check in result.get("checks", []):
            say(f"   [{'ok' if check['ok'] else 'FAIL'}] {check['name']}: {check['detail']}")
        policy = result.get("policy") or {}
        if result.get("verified"):
            say(f"   VERIFIED — lending policy: {policy.get('decision', '?').upper()}")
            for reason in policy.get("reasons", []):
                say(f"     - {reason['en']} / {reason['zh-Hans']}")
            return 0
        say(f"   REJECTED: {result.get('reason')} — {result.get('message')}")
        return 1


def say(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    auto = os.environ.get("DEMO_AUTO") == "1" or not sys.stdin.isatty()
    keep = os.environ.get("DEMO_KEEP")
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="selfcarry-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    demo = Demo(root)
    with ExitStack() as stack:
        stack.callback(demo.stop)
        if not keep:
            stack.callback(shutil.rmtree, root, True)
        demo.provision()
        request = demo.bank_request()
        if auto:
            return demo.auto(request)
        say("6. Opening the wallet at the request review (q quits; every process stops)")
        from wallet.tui.app import run as run_tui

        return run_tui(root / "resident", request=request["uri"])
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
