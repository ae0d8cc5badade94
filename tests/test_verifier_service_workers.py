"""`serve(home, workers=2)`: two uvicorn worker processes share one bank through its home.

Requests are created by a third process (this one, through the library); answers
are accepted once across both workers, and results are visible from either.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port
from tests.world import BANK_ID, World, make_world
from verifier.home import init_verifier
from verifier.service import counter_token

SERVE = ("import sys; from verifier.service import serve; "
         "serve(sys.argv[1], '127.0.0.1', int(sys.argv[2]), workers=2)")
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, str, subprocess.Popen[bytes]]]:
    world = make_world(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    init_verifier(world.bank_home, client_id=BANK_ID, name="Two-worker Bank", url=url)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(world.bank_home), str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                text = (tmp_path / "serve.log").read_text(errors="replace")
                pytest.fail(f"verifier serve exited: {text[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("verifier serve did not start within 60 s")
            time.sleep(0.2)
        yield world, url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the workers too
            proc.wait(timeout=10)
        log.close()
        world.cra.close()


def test_two_workers_share_the_home(served: tuple[World, str, subprocess.Popen[bytes]]) -> None:
    world, url, proc = served
    assert len(_children(proc.pid)) >= 2  # the supervisor and its two workers
    issued, holder = world.issue(41)
    with world.verifier() as verifier, httpx.Client(base_url=url, timeout=30) as http:
        requests = [verifier.create_request() for _ in range(8)]
        bodies = [world.present(issued, holder, r).to_form_body() for r in requests]
        for request, body in zip(requests, bodies, strict=True):
            assert http.get(f"/request/{request.id}").text == request.request
            answer = http.post("/response", content=body, headers=FORM)
            assert answer.status_code == 200 and answer.json()["verified"] is True, answer.text
        for request, body in zip(requests, bodies, strict=True):
            replay = http.post("/response", content=body, headers=FORM)
            assert replay.json()["reason"] == "nonce_replayed"
            token = counter_token(verifier.signing_key, request.id)
            doc = http.get(f"/result/{request.id}",
                           headers={"authorization": f"Bearer {token}"}).json()
            assert doc["status"] == "done" and doc["result"]["verified"] is True
        created = http.post("/counter", data={"purpose_en": "Mortgage"})
        assert created.status_code == 303
        assert http.get(created.headers["location"]).status_code == 200
