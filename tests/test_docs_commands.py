"""Every shell command the documentation shows really works.

The fenced ```sh blocks of ``docs/cli.md``, ``docs/operators.md``,
``docs/wallet-guide.md`` and the README's Quick start are extracted and run, in
order, as one bash session per document in a fresh temporary directory (with
``SELFCARRY_HOME`` pointing into it, so nothing touches the user's data). Rules:

* ``make demo`` / ``make test`` (and any ``make`` target) are only checked to exist
  (``make -n``), never run here;
* a long-running command (``... serve ...``, and the interactive ``wallet`` app) is
  checked with ``--help``; a ``serve`` the document starts in the background (``&``)
  is also started for real — the later commands need it — on a free port, and
  stopped at the end;
* the documented loopback ports 8700-8703, the PostgreSQL URL and schema names are
  replaced by free ports and a private schema, so runs can go in parallel;
* a command whose comment says ``# exit N`` must exit with N; any other must exit 0.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC_PORTS = ("8700", "8701", "8702", "8703")
DOC_DB_URL = "postgresql://postgres@127.0.0.1:5432/test"
DOC_SCHEMAS = ("selfcarry_registry",)
PG_URLS = (
    [os.environ["SELFCARRY_TEST_POSTGRES_URL"]]
    if os.environ.get("SELFCARRY_TEST_POSTGRES_URL")
    else ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]
)
TOOLS = ("hash-registry", "issuer-sim", "verifier", "wallet")
WALLET_SUBCOMMANDS = {"init", "trust", "holder-jwk", "import", "receive", "list", "show",
                      "present", "history", "backup", "restore", "passwd"}


# --------------------------------------------------------------------------- extraction


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)


def commands(block: str) -> list[str]:
    """One entry per command: continuation lines joined, comment-only lines dropped."""
    out: list[str] = []
    pending = ""
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(" ".join((pending + line).split()) if pending else line.strip())
        pending = ""
    assert not pending, f"a command ends in a continuation: {pending!r}"
    return out


def quick_start(text: str) -> str:
    """The README's Quick start section."""
    match = re.search(r"^## Quick start\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, "the README has a Quick start section"
    return match.group(1)


def doc_commands(path: Path, *, section: str | None = None) -> list[str]:
    text = path.read_text("utf-8")
    if section == "quick start":
        text = quick_start(text)
    return [c for block in sh_blocks(text) for c in commands(block)]


# --------------------------------------------------------------------------- classification


def words(command: str) -> list[str]:
    code = command.split(" #", 1)[0]
    return shlex.split(code.rstrip(" &"))


def is_make(command: str) -> bool:
    return words(command)[:1] == ["make"]


def is_serve(command: str) -> bool:
    w = words(command)
    return bool(w) and w[0] in TOOLS and "serve" in w


def is_tui(command: str) -> bool:
    """``wallet`` with no subcommand (or ``wallet tui``) opens the interactive app."""
    w = words(command)
    if not w or w[0] != "wallet":
        return False
    rest = [a for i, a in enumerate(w[1:], 1) if not a.startswith("-") and w[i - 1] != "--home"]
    return not rest or rest[0] == "tui" or rest[0] not in WALLET_SUBCOMMANDS


def expected_exit(command: str) -> int:
    found = re.search(r"#\s*exit (\d+)\b", command)
    return int(found.group(1)) if found else 0


def port_of(command: str) -> str:
    w = words(command)
    assert "--port" in w, f"a documented serve command names its port: {command}"
    return w[w.index("--port") + 1]


# --------------------------------------------------------------------------- running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Session:
    """One document's commands, as one bash script in a fresh directory."""

    name: str
    commands: list[str]
    substitutions: dict[str, str] = field(default_factory=dict)

    def substitute(self, command: str) -> str:
        for old, new in self.substitutions.items():
            command = re.sub(rf"(?<![\w/]){re.escape(old)}(?![\w])", new, command)
        return command

    def script(self, pidfile: Path) -> str:
        lines = [
            "set -uo pipefail",
            "wait_port() { for _ in $(seq 1 300); do "
            "(echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; "
            'echo "nothing listens on port $1" >&2; return 1; }',
            "step() { echo \">>> $1\" >&2; }",
            'fail() { echo "!!! $1" >&2; exit 1; }',
        ]
        for n, original in enumerate(self.commands, 1):
            command = self.substitute(original)
            label = shlex.quote(f"[{n}] {command}")
            if is_make(command):
                target = " ".join(words(command)[1:])
                lines += [f"step {label}",
                          f"make -n -C {shlex.quote(str(ROOT))} {target} > /dev/null "
                          f"|| fail {label}"]
            elif is_tui(command):
                lines += [f"step {label}",
                          f"{command.split(' #', 1)[0]} --help > /dev/null || fail {label}"]
            elif is_serve(command):
                bare = command.split(" #", 1)[0].rstrip(" &")
                lines += [f"step {label}", f"{bare} --help > /dev/null || fail {label}"]
                if command.split(" #", 1)[0].rstrip().endswith("&"):
                    lines += [f"{bare} > serve-{n}.log 2>&1 &",
                              f"echo $! >> {shlex.quote(str(pidfile))}",
                              f"wait_port {port_of(command)} || {{ cat serve-{n}.log >&2; "
                              f"fail {label}; }}"]
            else:
                want = expected_exit(command)
                lines += [f"step {label}", command.split(" #", 1)[0],
                          f'rc=$?; [ "$rc" -eq {want} ] || fail "exit $rc, expected {want}: "'
                          f"{label}"]
        return "\n".join(lines) + "\n"

    def run(self, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        pidfile = workdir / ".servers"
        script = workdir / f"{self.name}.sh"
        script.write_text(self.script(pidfile), encoding="utf-8")
        try:
            return subprocess.run(["bash", str(script)], cwd=workdir, env=env,
                                  capture_output=True, text=True, timeout=600, check=False)
        finally:
            stop_servers(pidfile)


def stop_servers(pidfile: Path) -> None:
    """Stop the servers this session started (by their pids, and only those)."""
    if not pidfile.exists():
        return
    pids = [int(p) for p in pidfile.read_text().split()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFCARRY_")}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "SELFCARRY_HOME": str(workdir / "default-home"),
        "SELFCARRY_PASSPHRASE": "a long and honest test passphrase",
        "SELFCARRY_UNSAFE_TEST_KDF": "1",  # throwaway vaults: fast Argon2id
        "HOME": str(workdir / "user"),
    })
    return env


def port_substitutions() -> dict[str, str]:
    return {port: str(free_port()) for port in DOC_PORTS}


def run_session(session: Session, workdir: Path) -> None:
    assert session.commands, f"{session.name} shows no commands"
    workdir.mkdir(parents=True, exist_ok=True)
    done = session.run(workdir, environment(workdir))
    if done.returncode != 0:
        trail = "\n".join(done.stderr.splitlines()[-60:])
        pytest.fail(f"{session.name}: a documented command failed\n{trail}\n--- stdout (tail)\n"
                    + "\n".join(done.stdout.splitlines()[-30:]))


def postgres_url() -> str:
    psycopg = pytest.importorskip("psycopg")
    last: BaseException | None = None
    for url in PG_URLS:
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error as exc:
            last = exc
    message = f"PostgreSQL (database test) is not reachable: {last}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so a missing server is a failure)")
    pytest.skip(message)


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    url = postgres_url()
    schema = f"docs_{secrets.token_hex(6)}"
    yield url, schema
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --------------------------------------------------------------------------- the tests


def test_extraction_rules() -> None:
    block = "# a comment\nhash-registry --home r init\nverifier --home b init \\\n" \
            "    --client-id https://x.example\n\nwallet --home me   # the app\n"
    assert commands(block) == ["hash-registry --home r init",
                               "verifier --home b init --client-id https://x.example",
                               "wallet --home me   # the app"]
    assert is_tui("wallet --home me") and is_tui("wallet") and not is_tui("wallet --home me list")
    assert is_serve("verifier --home bank serve --port 8702 &") and not is_serve("make demo")
    assert expected_exit("verifier verify x --request y   # exit 1: nonce_replayed") == 1
    assert Session("x", [], {"8700": "1234"}).substitute(
        "--url http://127.0.0.1:8700 --port 8700 --seed 18700") == \
        "--url http://127.0.0.1:1234 --port 1234 --seed 18700"


def test_cli_reference_commands_run(tmp_path: Path) -> None:
    session = Session("cli", doc_commands(ROOT / "docs" / "cli.md"), port_substitutions())
    run_session(session, tmp_path / "cli")


def test_wallet_guide_commands_run(tmp_path: Path) -> None:
    session = Session("wallet-guide", doc_commands(ROOT / "docs" / "wallet-guide.md"),
                      port_substitutions())
    run_session(session, tmp_path / "wallet-guide")


@pytest.mark.postgres
def test_operators_guide_commands_run(tmp_path: Path, pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    substitutions = {**port_substitutions(), DOC_DB_URL: url}
    substitutions.update({name: f"{schema}_{i}" for i, name in enumerate(DOC_SCHEMAS)})
    session = Session("operators", doc_commands(ROOT / "docs" / "operators.md"), substitutions)
    run_session(session, tmp_path / "operators")


def test_readme_quick_start(tmp_path: Path) -> None:
    found = doc_commands(ROOT / "README.md", section="quick start")
    assert found, "README.md's Quick start shows no commands"
    assert all(is_make(c) for c in found), "Quick start is `make demo` and `make test`"
    run_session(Session("readme", found), tmp_path / "readme")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def test_verifier_api_examples_run(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The Python blocks of ``docs/verifier-api.md``, in order, against a real world: a bank
    home (``home``) and, wherever a block uses ``answer``, a real wallet's answer to the
    ``request`` the previous blocks made."""
    from examples.scenarios._world import build_world

    monkeypatch.setenv("SELFCARRY_UNSAFE_TEST_KDF", "1")
    blocks = python_blocks((ROOT / "docs" / "verifier-api.md").read_text("utf-8"))
    assert len(blocks) >= 3
    with build_world() as world:
        world.issue_to_wallet(seed=3)
        namespace: dict[str, object] = {"home": world.bank_home}
        for block in blocks:
            if re.search(r"\banswer\b", block):
                namespace["answer"] = world.answer(namespace["request"])[1].response  # type: ignore[arg-type]
            exec(compile(block, "docs/verifier-api.md", "exec"), namespace)  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert "openid4vp://" in out and "True" in out
