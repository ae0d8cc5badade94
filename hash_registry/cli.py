"""``hash-registry``: the platform operator's and the witness's command line (see CLI.md).

Thin on purpose: every command parses its input, calls the log / home / witness
modules, and prints text or one JSON document. Exit codes: 0 ok, 1 the operation
failed (a named error), 2 usage or input-format errors. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from vc.errors import JoseError, SelfcarryError
from vc.jose import PublicKey, decode_compact, verify_compact

from . import home as H
from .checkpoint import Checkpoint
from .entries import MAX_TIME, AnchorEntry, RevocationEntry, credential_digest, parse_digest_hex
from .errors import InvalidEntry, InvalidKey, RegistryError
from .log import Forbidden, Log, b64
from .note import split_note

MAX_INPUT_BYTES = 16 * 1024 * 1024
DEFAULT_DIGEST_VCT = "urn:selfcarry:digest"
ANCHOR_CHUNK = 50_000


class UsageError(RegistryError):
    """Bad input on the command line or in an input file (exit code 2)."""

    code = "usage_error"
    default_message = "invalid input"


# --- output ----------------------------------------------------------------------------


class Out:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, doc: Any, text: str | None = None) -> None:
        if self.as_json:
            print(json.dumps(doc, indent=2, ensure_ascii=False))
        else:
            print(text if text is not None else json.dumps(doc, indent=2, ensure_ascii=False))

    def fail(self, exc: SelfcarryError, status: int) -> int:
        if self.as_json:
            print(json.dumps({"error": exc.code, "message": exc.message}))
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return status


# --- inputs ----------------------------------------------------------------------------


def _read_input(path: str) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", code="input_error") from exc
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{path} is larger than {MAX_INPUT_BYTES} bytes", code="input_error")
    return data


def _read_text(path: str) -> str:
    try:
        return _read_input(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text", code="input_error") from exc


def _read_json(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(_read_input(path))
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}", code="invalid_json") from exc
    if not isinstance(doc, dict):
        raise UsageError(f"{path} is not a JSON object", code="invalid_json")
    return doc


def _digest_arg(text: str) -> bytes:
    try:
        return parse_digest_hex(text)
    except InvalidEntry as exc:
        raise UsageError(exc.message, code="invalid_digest") from exc


def _home(args: argparse.Namespace) -> Path:
    return Path(args.home) if getattr(args, "home", None) else H.default_home()


def _open(args: argparse.Namespace) -> Log:
    return H.open_log(_home(args))


# --- registry commands ----------------------------------------------------------------


INPUT_CODES = frozenset(
    {"invalid_db_url", "invalid_schema", "invalid_note_key", "unsupported_hash_alg"}
)
"""Errors that mean the command line itself is wrong (exit 2), not that the operation failed."""


def cmd_init(args: argparse.Namespace, out: Out) -> int:
    try:
        cfg = H.init_registry(
            _home(args),
            db=args.db,
            schema=args.schema,
            origin=args.origin,
            hash_alg=args.hash_alg,
            witness_name=args.witness_name,
        )
    except RegistryError as exc:
        if exc.code in INPUT_CODES:
            raise UsageError(exc.message, code=exc.code) from exc
        raise
    log = _open(args)
    try:
        keys = log.keys_document()
    finally:
        log.close()
    store = "PostgreSQL" if cfg.store.startswith("postgres") else str(cfg.dir / "registry.db")
    out.emit(
        {"home": str(cfg.home), "origin": cfg.origin, "store": store, **keys},
        f"initialised registry {cfg.origin} in {cfg.home}\n"
        f"log key:     {keys['log']['vkey']}\n"
        f"witness key: {keys['witnesses'][0]['vkey']}",
    )
    return 0


def cmd_serve(args: argparse.Namespace, out: Out) -> int:
    from .service import serve

    H.RegistryConfig.load(_home(args))  # fail fast, with a named error, if not initialised
    print(f"hash-registry serving on http://{args.host}:{args.port}", file=sys.stderr)
    serve(str(_home(args)), args.host, args.port)
    return 0


def _admit(args: argparse.Namespace, out: Out, kind: str) -> int:
    doc = _read_json(args.file)
    log = _open(args)
    try:
        admitted = log.admit_issuer(doc) if kind == "issuer" else log.admit_verifier(doc)
        subject = doc.get("issuer") if kind == "issuer" else doc.get("client_id")
    except (InvalidEntry, JoseError) as exc:  # the document, not the operation, is wrong
        raise UsageError(f"{args.file}: {exc.message}", code=exc.code) from exc
    finally:
        log.close()
    lines = [
        f"{'admitted' if a.new else 'already admitted'} {kind} {subject} key {a.thumbprint}"
        f" (entry {a.index})"
        for a in admitted
    ]
    out.emit(
        {kind: subject, "keys": [a.to_dict() for a in admitted]},
        "\n".join(lines),
    )
    return 0


def cmd_admit_issuer(args: argparse.Namespace, out: Out) -> int:
    return _admit(args, out, "issuer")


def cmd_admit_verifier(args: argparse.Namespace, out: Out) -> int:
    return _admit(args, out, "verifier")


def _claim_int(claims: dict[str, Any], name: str, default: int | None) -> int:
    value = claims.get(name, default)
    if type(value) is not int or not 0 <= value <= MAX_TIME:
        raise UsageError(f"the credential's {name} is not a NumericDate", code="invalid_credential")
    return value


def anchor_entry_for(credential: str, log: Log, issuer: str | None) -> AnchorEntry:
    """The anchor of an SD-JWT's issuer-signed JWT, after checking it against the admitted keys."""
    text = credential.strip()
    try:
        digest = credential_digest(text)  # SHA-256 of the issuer JWT, as issuers compute it
        jws = decode_compact(text.split("~", 1)[0])
        claims = jws.claims()
    except SelfcarryError as exc:
        raise UsageError(f"not an SD-JWT: {exc.message}", code="invalid_credential") from exc
    iss, vct = claims.get("iss"), claims.get("vct")
    if not isinstance(iss, str) or not isinstance(vct, str):
        raise UsageError("the credential lacks a string iss or vct", code="invalid_credential")
    if issuer is not None and issuer != iss:
        raise Forbidden(
            f"the credential is issued by {iss!r}, not {issuer!r}", code="issuer_mismatch"
        )
    keys = [k for k in log.issuers() if k["issuer"] == iss]
    if not keys:
        raise Forbidden(f"{iss!r} is not an admitted issuer", code="issuer_not_admitted")
    kid = jws.header.get("kid")
    keys.sort(key=lambda k: k["kid"] != kid)  # the named key first
    last: SelfcarryError | None = None
    for k in keys:
        try:
            verify_compact(jws, PublicKey.from_jwk(k["jwk"]))
            break
        except SelfcarryError as exc:
            last = exc
    else:
        assert last is not None
        raise last
    iat = _claim_int(claims, "iat", None)
    exp = _claim_int(claims, "exp", MAX_TIME)  # no exp: valid until revoked
    return AnchorEntry.create(digest, iss, vct, iat, exp)


def cmd_anchor(args: argparse.Namespace, out: Out) -> int:
    credential = _read_text(args.file)
    log = _open(args)
    try:
        entry = anchor_entry_for(credential, log, args.issuer)
        appended = log.append_batch([entry])
        index = appended.indices[0]
        leaf = log.entry(index).leaf_hash
    finally:
        log.close()
    out.emit(
        {
            "index": index,
            "digest": entry.digest.hex(),
            "leaf_hash": b64(leaf),
            "checkpoint": appended.checkpoint,
        },
        f"anchored {entry.digest.hex()} at index {index}",
    )
    return 0


def cmd_anchor_digests(args: argparse.Namespace, out: Out) -> int:
    digests: list[bytes] = []
    for n, line in enumerate(_read_text(args.file).splitlines(), 1):
        if line.strip():
            try:
                digests.append(parse_digest_hex(line))
            except InvalidEntry as exc:
                raise UsageError(f"line {n}: {exc.message}", code="invalid_digest") from exc
    if not digests:
        raise UsageError("the file holds no digests", code="invalid_digest")
    log = _open(args)
    try:
        now = int(time.time())
        issuer = args.issuer or log.origin
        first: int | None = None
        checkpoint = ""
        for i in range(0, len(digests), ANCHOR_CHUNK):
            chunk = [
                AnchorEntry.create(d, issuer, args.vct, now, MAX_TIME)
                for d in digests[i : i + ANCHOR_CHUNK]
            ]
            appended = log.append_batch(chunk)
            first = appended.indices[0] if first is None else first
            checkpoint = appended.checkpoint
    finally:
        log.close()
    out.emit(
        {"first_index": first, "count": len(digests), "checkpoint": checkpoint},
        f"anchored {len(digests)} digests from index {first}",
    )
    return 0


def cmd_revoke(args: argparse.Namespace, out: Out) -> int:
    digest = _digest_arg(args.digest)
    try:
        entry = RevocationEntry(digest, args.reason, int(time.time()))
    except InvalidEntry as exc:
        raise UsageError(exc.message, code="invalid_reason") from exc
    log = _open(args)
    try:
        appended = log.append_batch([entry])
    finally:
        log.close()
    out.emit(
        {
            "index": appended.indices[0],
            "digest": digest.hex(),
            "reason": args.reason,
            "checkpoint": appended.checkpoint,
        },
        f"revoked {digest.hex()} ({args.reason}) at index {appended.indices[0]}",
    )
    return 0


def cmd_checkpoint(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        note = log.checkpoint()
    finally:
        log.close()
    cp = Checkpoint.parse(split_note(note)[0], hash_size=log.hash_alg.digest_size)
    if out.as_json:
        out.emit({"checkpoint": note, "origin": cp.origin, "size": cp.size, "root": cp.root_b64})
    else:
        sys.stdout.write(note)
    return 0


def cmd_proof(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        proof = log.inclusion_proof(args.index, args.size)
    finally:
        log.close()
    doc = proof.to_dict()
    out.emit(doc, "\n".join(f"{k}: {v}" for k, v in doc.items()))
    return 0


def cmd_consistency(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        proof = log.consistency_proof(args.old, args.new)
    finally:
        log.close()
    doc = proof.to_dict()
    out.emit(doc, "\n".join(f"{k}: {v}" for k, v in doc.items()))
    return 0


def cmd_keys(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        doc = log.keys_document()
    finally:
        log.close()
    text = [f"log {doc['log']['origin']}: {doc['log']['vkey']}"]
    text += [f"witness {w['name']}: {w['vkey']}" for w in doc["witnesses"]]
    out.emit(doc, "\n".join(text))
    return 0


def cmd_status(args: argparse.Namespace, out: Out) -> int:
    digest = _digest_arg(args.digest)
    log = _open(args)
    try:
        st = log.lookup(digest)
    finally:
        log.close()
    doc = {
        "anchored": st.anchored,
        "index": st.index,
        "revoked": st.revoked,
        "revocation_index": st.revocation_index,
        "reason": st.reason,
        "issuer": st.issuer,
    }
    if not st.anchored:
        text = f"{digest.hex()}: not anchored"
    else:
        text = f"{digest.hex()}: anchored at index {st.index} by {st.issuer}"
        if st.revoked:
            text += f"; revoked at index {st.revocation_index} ({st.reason})"
    out.emit(doc, text)
    return 0


def cmd_entry(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        doc = log.entry(args.index).to_dict()
    finally:
        log.close()
    out.emit(doc)
    return 0


def cmd_receipt(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        doc = log.receipt(args.index).to_dict()
    finally:
        log.close()
    out.emit(doc)
    return 0


def cmd_issuers(args: argparse.Namespace, out: Out) -> int:
    log = _open(args)
    try:
        items = log.issuers() if args.command == "issuers" else log.verifiers()
    finally:
        log.close()
    out.emit({args.command: items})
    return 0


def cmd_add_witness(args: argparse.Namespace, out: Out) -> int:
    try:
        cfg = H.add_witness(_home(args), args.name, args.vkey, args.url)
    except (InvalidKey, H.InvalidUrl) as exc:
        raise UsageError(exc.message, code=exc.code) from exc
    out.emit(
        {"witnesses": [w.to_dict() for w in cfg.witnesses], "quorum": cfg.quorum},
        f"the log now asks {len(cfg.witnesses)} witness(es): "
        + ", ".join(w.name for w in cfg.witnesses),
    )
    return 0


def cmd_remove_witness(args: argparse.Namespace, out: Out) -> int:
    cfg = H.remove_witness(_home(args), args.name)
    out.emit(
        {"witnesses": [w.to_dict() for w in cfg.witnesses], "quorum": cfg.quorum},
        f"the log now asks {len(cfg.witnesses)} witness(es)",
    )
    return 0


# --- witness commands -----------------------------------------------------------------


def cmd_witness_init(args: argparse.Namespace, out: Out) -> int:
    cfg = H.init_witness(_home(args), args.name)
    vkey = H.witness_signer(_home(args)).vkey
    out.emit({"name": cfg.name, "vkey": vkey}, f"initialised witness {cfg.name}\n{vkey}")
    return 0


def cmd_witness_add_log(args: argparse.Namespace, out: Out) -> int:
    if (args.vkey is None) == (args.keys is None):
        raise UsageError("give exactly one of --vkey VKEY or --keys FILE")
    vkey = args.vkey
    if args.keys is not None:
        doc = _read_json(args.keys)
        log = doc.get("log")
        vkey = log.get("vkey") if isinstance(log, dict) else None
        if not isinstance(vkey, str):
            raise UsageError(f"{args.keys} is not a keys document", code="invalid_json")
    try:
        cfg = H.witness_follow_log(_home(args), vkey)
    except InvalidKey as exc:
        raise UsageError(exc.message, code=exc.code) from exc
    out.emit(
        {"name": cfg.name, "logs": cfg.logs},
        "the witness follows: " + ", ".join(x["origin"] for x in cfg.logs),
    )
    return 0


def cmd_witness_info(args: argparse.Namespace, out: Out) -> int:
    cfg = H.WitnessConfig.load(_home(args))
    vkey = H.witness_signer(_home(args)).vkey
    out.emit(
        {"name": cfg.name, "vkey": vkey, "logs": cfg.logs},
        f"witness {cfg.name}: {vkey}\nfollows: " + ", ".join(x["origin"] for x in cfg.logs),
    )
    return 0


def cmd_witness_serve(args: argparse.Namespace, out: Out) -> int:
    from .witness_service import serve_witness

    H.WitnessConfig.load(_home(args))
    print(f"hash-registry witness serving on http://{args.host}:{args.port}", file=sys.stderr)
    serve_witness(_home(args), args.host, args.port)
    return 0


# --- parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"usage_error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _nonneg(text: str) -> int:
    if not text.isdigit() or int(text) >= 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative integer")
    return int(text)


def _common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    default = None if top else argparse.SUPPRESS
    p.add_argument("--home", default=default, help="state directory (default: $SELFCARRY_HOME)")
    p.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="print one JSON document",
    )


Handler = Callable[[argparse.Namespace, Out], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hash-registry", description="the selfcarry hash registry")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def cmd(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.set_defaults(handler=handler)
        return p

    p = cmd("init", cmd_init, "create the log key, a witness key and the store")
    p.add_argument("--db", help="a postgresql:// URL (default: SQLite under the home)")
    p.add_argument("--schema", default=H.DEFAULT_SCHEMA, help="PostgreSQL schema name")
    p.add_argument("--origin", default=H.DEFAULT_ORIGIN, help="the log's origin line")
    p.add_argument("--hash-alg", default="sha-256", choices=["sha-256", "sm3"])
    p.add_argument("--witness-name", default=H.DEFAULT_WITNESS_NAME)

    p = cmd("serve", cmd_serve, "serve the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8700)

    p = cmd("admit-issuer", cmd_admit_issuer, "admit a CRA from its JWT VC Issuer Metadata")
    p.add_argument("file")
    p = cmd("admit-verifier", cmd_admit_verifier, "admit a bank from its identity document")
    p.add_argument("file")

    p = cmd("anchor", cmd_anchor, "anchor the issuer-signed part of the SD-JWT in FILE")
    p.add_argument("file")
    p.add_argument("--issuer", help="the admitted issuer (must be the credential's iss)")

    p = cmd("anchor-digests", cmd_anchor_digests, "bulk-anchor hex SHA-256 digests, one a line")
    p.add_argument("file")
    p.add_argument("--issuer", help="issuer recorded in the anchors (default: the log origin)")
    p.add_argument("--vct", default=DEFAULT_DIGEST_VCT)

    p = cmd("revoke", cmd_revoke, "revoke an anchored credential digest")
    p.add_argument("digest")
    p.add_argument("--reason", required=True, help="a reason code, e.g. superseded")

    cmd("checkpoint", cmd_checkpoint, "print the latest cosigned checkpoint")

    p = cmd("proof", cmd_proof, "inclusion proof of an entry")
    p.add_argument("--index", type=_nonneg, required=True)
    p.add_argument("--size", type=_nonneg)

    p = cmd("consistency", cmd_consistency, "consistency proof between two tree sizes")
    p.add_argument("--old", type=_nonneg, required=True)
    p.add_argument("--new", type=_nonneg)

    cmd("keys", cmd_keys, "the log and witness verifier keys")

    p = cmd("status", cmd_status, "anchored / revoked status of a hex digest")
    p.add_argument("digest")

    p = cmd("entry", cmd_entry, "one log entry")
    p.add_argument("index", type=_nonneg)
    p = cmd("receipt", cmd_receipt, "the registry receipt of one entry")
    p.add_argument("index", type=_nonneg)
    cmd("issuers", cmd_issuers, "admitted issuer keys")
    cmd("verifiers", cmd_issuers, "admitted verifier keys")

    p = cmd("add-witness", cmd_add_witness, "ask another witness (over HTTP) to cosign")
    p.add_argument("--name", required=True)
    p.add_argument("--vkey", required=True, help="its cosignature verifier key")
    p.add_argument("--url", required=True, help="where its tlog-witness API is served")
    p = cmd("remove-witness", cmd_remove_witness, "stop asking a witness")
    p.add_argument("--name", required=True)

    w = sub.add_parser("witness", help="run a witness", description="a tlog witness")
    _common(w)
    wsub = w.add_subparsers(dest="witness_command", required=True, parser_class=_Parser)

    def wcmd(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = wsub.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.set_defaults(handler=handler)
        return p

    p = wcmd("init", cmd_witness_init, "create a witness key and state")
    p.add_argument("--name", default=H.DEFAULT_WITNESS_NAME)
    p = wcmd("add-log", cmd_witness_add_log, "follow a log (its vkey or keys document)")
    p.add_argument("--vkey")
    p.add_argument("--keys", help="a keys document from `hash-registry keys --json`")
    wcmd("info", cmd_witness_info, "the witness's name, key and logs")
    p = wcmd("serve", cmd_witness_serve, "serve POST /add-checkpoint")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8703)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Out(bool(args.json))
    try:
        return int(args.handler(args, out))
    except UsageError as exc:
        return out.fail(exc, 2)
    except SelfcarryError as exc:
        return out.fail(exc, 1)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        return out.fail(RegistryError(str(exc), code="io_error"), 1)
    except Exception as exc:  # noqa: BLE001 - the last line of "never a traceback"
        return out.fail(RegistryError(f"{type(exc).__name__}: {exc}", code="internal_error"), 1)


if __name__ == "__main__":
    sys.exit(main())
