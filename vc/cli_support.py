"""The command-line conventions every selfcarry command shares (CLI.md).

``--home`` before or after the subcommand; one JSON document with ``--json``; exit 0
on success, 1 when the operation failed or was rejected, 2 for usage or input-format
errors; never a traceback for bad input. This is the one module of ``vc`` that
writes to stdout/stderr: it exists so the four CLIs behave identically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .errors import InvalidJSON, LimitExceeded, MalformedError, SelfcarryError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_INPUT_BYTES = 4 * 1024 * 1024


class UsageError(SelfcarryError):
    code = "usage_error"
    default_message = "the command was not used as documented"


INPUT_ERRORS: tuple[type[SelfcarryError], ...] = (
    UsageError, MalformedError, InvalidJSON, LimitExceeded,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: usage_error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def default_home() -> Path:
    env = os.environ.get("SELFCARRY_HOME")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("selfcarry"))


def make_parser(prog: str, description: str) -> tuple[argparse.ArgumentParser, Any]:
    """A parser taking ``--home``/``--json`` both before and after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, default=argparse.SUPPRESS,
                        help="where this party's keys, databases and config live "
                             "(default: $SELFCARRY_HOME, else the user data directory)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document")
    parser = _Parser(prog=prog, description=description, parents=[common])
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs.required = True
    parser.set_defaults(_common=common)
    return parser, subs


def add_command(subs: Any, parser: argparse.ArgumentParser, name: str,
                help_text: str) -> argparse.ArgumentParser:
    return subs.add_parser(name, help=help_text, description=help_text,  # type: ignore[no-any-return]
                           parents=[parser.get_default("_common")])


def home_of(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "home", None) or default_home())


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def emit(args: argparse.Namespace, document: Any, human: str | None = None) -> None:
    """Print the JSON document with ``--json``, else the human text (or the JSON)."""
    if wants_json(args) or human is None:
        print(json.dumps(document, ensure_ascii=False, indent=None if wants_json(args) else 2))
    else:
        print(human)


def read_input(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """Read a user-named file (``-`` is stdin) with a size bound, as text."""
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > max_bytes:
        raise LimitExceeded(f"{path} is larger than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{path} is not UTF-8 text") from exc


def read_json(path: str | Path) -> Any:
    from .strict_json import loads

    return loads(read_input(path), max_depth=64)


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
        dispatch: Callable[[argparse.Namespace], int]) -> int:
    """Parse, dispatch, and turn every named error into its exit code and one line."""
    args = parser.parse_args(argv)
    try:
        return dispatch(args)
    except SelfcarryError as exc:
        if wants_json(args):
            print(json.dumps({"ok": False, "error": exc.to_dict()}, ensure_ascii=False))
        print(f"{parser.prog}: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, INPUT_ERRORS) else EXIT_FAILED
    except KeyboardInterrupt:
        return 130
