"""`wallet`: the resident's wallet from the command line (CLI.md); no arguments opens the TUI.

Every command is scriptable: the passphrase comes from ``SELFCARRY_PASSPHRASE`` when
set (otherwise it is asked for without echo), and ``--json`` prints one document.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vc.cli_support import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_command,
    emit,
    home_of,
    make_parser,
    read_input,
    read_json,
    run,
)

from .api import Wallet

ENV_PASSPHRASE = "SELFCARRY_PASSPHRASE"  # noqa: S105 — a variable name, not a secret
ENV_TX_CODE = "SELFCARRY_TX_CODE"


def _parser() -> argparse.ArgumentParser:
    parser, subs = make_parser("wallet", "A Hong Kong resident's credential wallet.")
    add_command(subs, parser, "tui", "open the terminal app (the default)")
    add_command(subs, parser, "init", "create the encrypted vault")
    trust = add_command(subs, parser, "trust", "the platforms this wallet trusts")
    tsubs = trust.add_subparsers(dest="trust_command", metavar="WHAT", required=True)
    p = add_command(tsubs, parser, "add-registry", "trust a registry (hash-registry keys --json)")
    p.add_argument("keys_file")
    p.add_argument("--url", help="a hash-registry serve URL, or a registry home on this machine")
    add_command(subs, parser, "holder-jwk", "reserve a fresh holder key; print its public JWK")
    p = add_command(subs, parser, "import", "verify and store a credential from a file")
    p.add_argument("file")
    p.add_argument("--receipt", help="its registry receipt (JSON)")
    p = add_command(subs, parser, "receive", "redeem a credential offer at the issuer")
    p.add_argument("offer_uri")
    p.add_argument("--tx-code", help=f"the transaction code (or ${ENV_TX_CODE})")
    add_command(subs, parser, "list", "the stored credentials")
    p = add_command(subs, parser, "show", "one credential: every claim path, disclosable or not")
    p.add_argument("id")
    p = add_command(subs, parser, "present", "answer a bank's request")
    p.add_argument("request", nargs="?", help="a request file or an openid4vp:// URI")
    p.add_argument("--qr-request", metavar="PNG", help="read the request from a QR image")
    p.add_argument("--credential", help="which credential to present (default: the first match)")
    p.add_argument("--disclose", nargs="+", default=[], metavar="PATH",
                   help="also disclose these requested optional claims (dotted paths)")
    p.add_argument("--out", help="write the response document (what verifier verify reads)")
    p.add_argument("--send", action="store_true", help="post it to the request's response_uri")
    p.add_argument("--qr", metavar="PNG", help="write the presentation as QR code(s)")
    p.add_argument("--decline", action="store_true", help="decline the request (and record it)")
    p.add_argument("--yes-unauthenticated", action="store_true",
                   help="answer even though the bank is not authenticated by the registry")
    p = add_command(subs, parser, "history", "every disclosure and refusal")
    p.add_argument("--export", metavar="FILE", help="write the signed, verifiable history")
    p = add_command(subs, parser, "backup", "write an encrypted backup")
    p.add_argument("file")
    p = add_command(subs, parser, "restore", "restore a backup into this (empty) home")
    p.add_argument("file")
    add_command(subs, parser, "passwd", "change the vault passphrase")
    return parser


def _passphrase(prompt: str = "Wallet passphrase: ", *, confirm: bool = False) -> str:
    value = os.environ.get(ENV_PASSPHRASE)
    if value:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for the passphrase: set {ENV_PASSPHRASE}")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != first:
        raise UsageError("the two passphrases differ")
    return first


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return len(value)
    return value


def _present(args: argparse.Namespace, wallet: Wallet) -> int:
    if (args.request is None) == (args.qr_request is None):
        raise UsageError("give a REQUEST (file or openid4vp:// URI) or --qr-request PNG")
    review = (wallet.open_request_qr(args.qr_request) if args.qr_request
              else wallet.open_request(args.request))
    if args.decline:
        row = wallet.decline(review)
        emit(args, {"declined": True, "request_id": row.request_id}, "declined and recorded")
        return EXIT_OK
    if not review.candidates:
        raise UsageError("no credential in this wallet answers the request")
    cand = next((c for c in review.candidates if c.credential_id == args.credential),
                None) if args.credential else review.candidates[0]
    if cand is None:
        raise UsageError(f"credential {args.credential} does not answer this request")
    deliver = "http" if args.send else ("qr" if args.qr else "none")
    delivery = wallet.approve(review, cand.credential_id, args.disclose, deliver=deliver,
                              confirm_unauthenticated=args.yes_unauthenticated)
    if args.out:
        Path(args.out).write_text(json.dumps(delivery.response), encoding="utf-8")
    written = _write_qr(args.qr, delivery.qr_codes) if args.qr else []
    disclosed = [c.dotted for c in cand.required] + list(args.disclose)
    doc: dict[str, Any] = {
        "request_id": review.request_id, "client_id": review.client_id,
        "bank": review.bank_name, "authenticated": review.authenticated,
        "credential": cand.credential_id, "outcome": delivery.outcome,
        "disclosed": disclosed,
        "bank_verdict": delivery.bank_verdict, "error": delivery.error, "qr_files": written,
        "warnings": [w.code for w in review.warnings],
    }
    lines = [f"{'Authenticated' if review.authenticated else 'UNAUTHENTICATED'} request from "
             f"{review.bank_name or review.client_id}: {review.purpose_text()}"]
    lines += [f"warning: {w.message}" for w in review.warnings]
    lines.append(f"disclosed: {', '.join(disclosed)}")
    lines.append(f"outcome: {delivery.outcome}"
                 + (f" ({delivery.error})" if delivery.error else ""))
    emit(args, doc, "\n".join(lines))
    return EXIT_FAILED if delivery.outcome in ("failed", "rejected_by_bank") else EXIT_OK


def _write_qr(target: str, codes: Sequence[bytes]) -> list[str]:
    from vc.qr import render_gif, render_png

    path = Path(target)
    if len(codes) == 1:
        path.write_bytes(render_png(codes[0]))
        return [str(path)]
    if path.suffix.lower() == ".gif":
        path.write_bytes(render_gif(list(codes)))
        return [str(path)]
    files = []
    for i, code in enumerate(codes, 1):
        frame = path.with_name(f"{path.stem}-{i:02d}{path.suffix or '.png'}")
        frame.write_bytes(render_png(code))
        files.append(str(frame))
    return files


def _dispatch(args: argparse.Namespace) -> int:
    home = home_of(args)
    command = args.command
    if command == "tui":
        from .tui.app import run as run_tui

        code: int = run_tui(home)
        return code
    if command == "init":
        Wallet.create(home, _passphrase("New wallet passphrase: ", confirm=True)).close()
        emit(args, {"created": True}, f"wallet created under {home}")
        return EXIT_OK
    if command == "restore":
        backup_pass = os.environ.get("SELFCARRY_BACKUP_PASSPHRASE") or _passphrase(
            "Backup passphrase: ")
        Wallet.restore(args.file, home, backup_pass, _passphrase()).close()
        emit(args, {"restored": True}, f"wallet restored under {home}")
        return EXIT_OK
    with Wallet.open(home, _passphrase()) as wallet:
        return _with_wallet(args, wallet)


def _with_wallet(args: argparse.Namespace, wallet: Wallet) -> int:
    command = args.command
    if command == "trust":
        origin = wallet.add_registry(read_json(args.keys_file), args.url)
        emit(args, {"origin": origin, "url": args.url}, f"now trusting registry {origin}")
    elif command == "holder-jwk":
        print(json.dumps(wallet.reserve_holder_key()))
    elif command == "import":
        receipt = read_input(args.receipt) if args.receipt else None
        summary = wallet.import_credential(read_input(args.file), receipt)
        emit(args, _jsonable(summary), f"stored {summary.id} from {summary.issuer_name}")
    elif command == "receive":
        tx = args.tx_code or os.environ.get(ENV_TX_CODE)
        if tx is None and wallet.offer_tx_code(args.offer_uri) is not None:
            if not sys.stdin.isatty():
                raise UsageError(f"this offer needs a transaction code: --tx-code or {ENV_TX_CODE}")
            tx = input("Transaction code: ").strip()
        summary = wallet.receive(args.offer_uri, tx)
        emit(args, _jsonable(summary), f"received {summary.id} from {summary.issuer_name}")
    elif command == "list":
        items = wallet.credentials()
        emit(args, _jsonable(items), "\n".join(
            f"{s.id}  {s.issuer_name}  expires {s.expires_at}"
            f"{'  REVOKED' if s.revoked else ''}" for s in items) or "no credentials")
    elif command == "show":
        detail = wallet.credential(args.id)
        emit(args, {"summary": _jsonable(detail.summary),
                    "claims": [{"path": n.dotted, "value": n.value, "disclosable": n.disclosable}
                               for n in detail.claims]},
             "\n".join(f"{'*' if n.disclosable else ' '} {n.dotted}"
                       + (f" = {n.value}" if n.value is not None else "") for n in detail.claims))
    elif command == "present":
        return _present(args, wallet)
    elif command == "history":
        if args.export:
            Path(args.export).write_text(json.dumps(wallet.export_history()), encoding="utf-8")
        rows = wallet.history()
        emit(args, _jsonable(rows), "\n".join(
            f"{r.time}  {r.decision:8}  {r.outcome:16}  {r.bank_name or r.client_id}  "
            f"{', '.join(r.disclosed)}" for r in rows) or "no history")
    elif command == "backup":
        wallet.backup(args.file, os.environ.get("SELFCARRY_BACKUP_PASSPHRASE")
                      or _passphrase("Backup passphrase: ", confirm=True))
        emit(args, {"backup": args.file}, f"encrypted backup written to {args.file}")
    elif command == "passwd":
        old = _passphrase("Current passphrase: ")
        new = os.environ.get("SELFCARRY_NEW_PASSPHRASE") or _passphrase(
            "New passphrase: ", confirm=True)
        wallet.change_passphrase(old, new)
        emit(args, {"changed": True}, "passphrase changed")
    else:
        raise UsageError(f"unknown command {command}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not any(a for a in arguments if not a.startswith("--") and a not in _home_values(arguments)):
        arguments.append("tui")  # `wallet` alone (maybe with --home DIR) opens the TUI
    return run(_parser(), arguments, _dispatch)


def _home_values(arguments: list[str]) -> set[str]:
    return {arguments[i + 1] for i, a in enumerate(arguments[:-1]) if a == "--home"}


if __name__ == "__main__":
    raise SystemExit(main())
