"""A witness in its own process (``hash-registry witness serve``), over real HTTP.

It cosigns the log's checkpoints next to the home's own witness; it answers the
C2SP tlog-witness status codes; and it refuses a split view: a second history
signed with the same log key.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hash_registry import home as H
from hash_registry.checkpoint import Checkpoint
from hash_registry.client import WitnessClient
from hash_registry.errors import InconsistentCheckpoint, WitnessQuorumNotMet
from hash_registry.log import Log
from hash_registry.merkle import SHA256, empty_root
from hash_registry.note import b64std_encode, sign_note, split_note
from hash_registry.store import NewEntry
from hash_registry.store_sqlite import SqliteStore
from hash_registry.trust import TrustedLog, verify_checkpoint_note
from hash_registry.witness import format_add_checkpoint_request

from .live_server import free_port
from .test_registry_store_helpers import REPO, anchor, new_log_signer, new_witness_signer

WITNESS = "witness.hk.test/remote"


def _cli(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "hash_registry.cli", *args, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str, str]]:
    """(registry home, witness home, witness URL, witness vkey), the witness serving."""
    base = tmp_path_factory.mktemp("witnessed")
    reg_home, w_home = base / "registry", base / "witness-hk"
    _cli("init", "--home", str(reg_home))
    keys = _cli("keys", "--home", str(reg_home))
    (base / "keys.json").write_text(json.dumps(keys))
    info = _cli("witness", "init", "--home", str(w_home), "--name", WITNESS)
    _cli("witness", "add-log", "--home", str(w_home), "--keys", str(base / "keys.json"))
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hash_registry.cli",
            "witness",
            "serve",
            "--home",
            str(w_home),
            "--port",
            str(port),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"the witness process did not start: {err}")
            time.sleep(0.1)
        _cli(
            "add-witness",
            "--home",
            str(reg_home),
            "--name",
            WITNESS,
            "--vkey",
            info["vkey"],
            "--url",
            url,
        )
        yield reg_home, w_home, url, info["vkey"]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_the_remote_witness_cosigns_with_the_local_one(remote: tuple[Path, Path, str, str]) -> None:
    reg_home, _, _, vkey = remote
    log = H.open_log(reg_home)
    try:
        appended = log.append_batch([anchor() for _ in range(3)])
        trust = TrustedLog.from_keys_json(log.keys_document())
        assert trust.quorum == 2 and vkey in trust.witness_vkeys
        verified = verify_checkpoint_note(appended.checkpoint, trust)
        assert set(verified.witnesses) == {H.DEFAULT_WITNESS_NAME, WITNESS}
        again = log.append(anchor())
        note = log.checkpoint()
        assert verify_checkpoint_note(note, trust).checkpoint.size == again + 1
    finally:
        log.close()


def _post(url: str, body: str | bytes) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    return httpx.post(url + "/add-checkpoint", content=data, timeout=10)


def test_tlog_witness_status_codes(remote: tuple[Path, Path, str, str], tmp_path: Path) -> None:
    reg_home, _, url, _ = remote
    log = H.open_log(reg_home)
    try:
        log.append(anchor())
        st = log.store.state()
        assert st.signed_note is not None
        note = st.signed_note
        size = st.size
    finally:
        log.close()
    # the witness already has `size`: asking from 0 is a 409 carrying its size
    resp = _post(url, format_add_checkpoint_request(0, [], note))
    assert resp.status_code == 409
    assert resp.headers["content-type"].startswith("text/x.tlog.size")
    assert int(resp.text) == size
    # the same checkpoint from the right old size is cosigned again
    resp = _post(url, format_add_checkpoint_request(size, [], note))
    assert resp.status_code == 200 and resp.text.startswith("\u2014 " + WITNESS + " ")
    # old size beyond the checkpoint: 400
    assert _post(url, format_add_checkpoint_request(size + 5, [], note)).status_code == 400
    # malformed bodies: 400
    for body in [b"", b"old x\n\n" + note.encode(), b"\xff\xfe", b"old 1\n!!!\n\n" + note.encode()]:
        assert _post(url, body).status_code in (400, 422)
    # unknown origin: 404; a known origin signed by another key: 403
    stranger = new_log_signer("stranger.test/log")
    text = Checkpoint("stranger.test/log", 0, empty_root()).to_text()
    assert (
        _post(url, format_add_checkpoint_request(0, [], sign_note(text, [stranger]))).status_code
        == 404
    )
    impostor = new_log_signer(H.DEFAULT_ORIGIN)
    cp = Checkpoint.parse(split_note(note)[0])
    forged = sign_note(
        Checkpoint(cp.origin, cp.size + 1, secrets.token_bytes(32)).to_text(), [impostor]
    )
    assert _post(url, format_add_checkpoint_request(size, [], forged)).status_code == 403
    # a bad consistency proof: 422 (a larger signed checkpoint the witness has not seen)
    log = H.open_log(reg_home)
    try:
        a = anchor()
        log.store.append_batch([NewEntry(a.encode(), a.digest)], sign=log._sign)
        bigger = log.store.state().signed_note
    finally:
        log.close()
    assert bigger is not None
    resp = _post(url, format_add_checkpoint_request(size, [secrets.token_bytes(32)], bigger))
    assert resp.status_code == 422
    # too large: 413
    assert _post(url, b"old 0\n" + b"A" * 200_000).status_code == 413
    assert httpx.get(url + "/").json()["name"] == WITNESS


def test_a_split_view_is_refused(remote: tuple[Path, Path, str, str], tmp_path: Path) -> None:
    """A second history signed with the same log key never gets the witness's cosignature."""
    reg_home, _, url, vkey = remote
    honest = H.open_log(reg_home)
    try:
        honest.append(anchor())
        size = honest.size()
    finally:
        honest.close()
    signer = H.log_signer(reg_home)
    fork_store = SqliteStore(tmp_path / "fork.db", SHA256)
    fork = Log(fork_store, signer, H.DEFAULT_ORIGIN, [WitnessClient(url, vkey)])
    try:
        # same size, another root: the witness calls it a split view (409)
        with pytest.raises(InconsistentCheckpoint) as info:
            fork.append_batch([anchor() for _ in range(size)])
        assert info.value.code == "split_view"
        # larger, but not an extension of what the witness saw: the proof fails (422)
        with pytest.raises(WitnessQuorumNotMet) as quorum:
            fork.append_batch([anchor() for _ in range(3)])
        assert "does not" in quorum.value.message or "invalid_proof" in quorum.value.message
        assert fork_store.state().cosigned_size in (None, 0)
    finally:
        fork.close()
    # the honest log is unaffected
    honest = H.open_log(reg_home)
    try:
        honest.append(anchor())
        assert verify_checkpoint_note(
            honest.checkpoint(), TrustedLog.from_keys_json(honest.keys_document())
        )
    finally:
        honest.close()


def test_an_unreachable_witness_fails_the_publish_not_the_append(tmp_path: Path) -> None:
    home = tmp_path / "home"
    H.init_registry(home)
    other = tmp_path / "other"
    cfg = H.init_witness(other, "witness.down.test/w")
    dead = f"http://127.0.0.1:{free_port()}"
    H.add_witness(home, cfg.name, H.witness_signer(other).vkey, dead)
    log = H.open_log(home, witness_timeout=2)
    try:
        with pytest.raises(WitnessQuorumNotMet) as info:
            log.append(anchor())
        assert "appended at indices 0..0" in info.value.message
        assert "witness_unavailable" in info.value.message
        assert log.size() == 1  # the entry is durable; only its checkpoint waits
    finally:
        log.close()
    H.remove_witness(home, cfg.name)
    log = H.open_log(home)
    try:
        cp = verify_checkpoint_note(log.publish(), TrustedLog.from_keys_json(log.keys_document()))
        assert cp.checkpoint.size == 1
        assert b64std_encode(cp.checkpoint.root) == b64std_encode(log.root(1))
    finally:
        log.close()
    shutil.rmtree(other)


def test_a_cosignature_from_another_key_is_not_counted(
    remote: tuple[Path, Path, str, str],
) -> None:
    reg_home, _, url, _ = remote
    expected = new_witness_signer(WITNESS).vkey  # same name, a key the witness does not hold
    cfg = H.RegistryConfig.load(reg_home)
    store = H.open_store(cfg)
    log = Log(store, H.log_signer(reg_home), cfg.origin, [WitnessClient(url, expected)])
    try:
        a = anchor()
        store.append_batch([NewEntry(a.encode(), a.digest)], sign=log._sign)
        with pytest.raises(WitnessQuorumNotMet) as info:
            log.publish()
        assert "unknown_log_key" in info.value.message
    finally:
        log.close()
