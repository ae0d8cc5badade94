"""`issuer-sim`: a credit reference agency simulator (CLI.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from vc.cli_support import (
    EXIT_OK,
    UsageError,
    add_command,
    emit,
    home_of,
    make_parser,
    read_json,
    run,
    wants_json,
)
from vc.jose import PrivateKey, PublicKey

from .cra import Cra
from .home import DEFAULT_URL, init_issuer


def _parser() -> argparse.ArgumentParser:
    parser, subs = make_parser("issuer-sim", "A credit reference agency simulator.")
    p = add_command(subs, parser, "init", "create the CRA's signing key and configuration")
    p.add_argument("--registry", help="the hash registry: a URL or a registry home")
    p.add_argument("--url", default=DEFAULT_URL, help="where `issuer-sim serve` is reachable")
    p.add_argument("--cra", default="transunion-hk",
                   help="CRA profile (transunion-hk, nova-credit-hk)")
    p = add_command(subs, parser, "report", "print a synthetic report (deterministic per seed)")
    p.add_argument("--seed", type=int, required=True)
    p = add_command(subs, parser, "issue", "issue, anchor and write a credential")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--holder-jwk", help="the holder's public JWK (file); required unless --count")
    p.add_argument("--out", help="write the credential here (default: stdout)")
    p.add_argument("--receipt", help="write the registry receipt here")
    p.add_argument("--count", type=int, default=1,
                   help="bulk: issue COUNT credentials for seeds SEED.. (fresh holder keys)")
    p.add_argument("--batch", type=int, default=500, help="bulk: anchors per registry batch")
    add_command(subs, parser, "jwks", "print the CRA's JWT VC Issuer Metadata")
    p = add_command(subs, parser, "revoke", "revoke a credential: status bit and registry entry")
    p.add_argument("digest", help="hex SHA-256 of the issuer-signed JWT")
    p.add_argument("--reason", default="unspecified")
    p = add_command(subs, parser, "serve", "run the issuance service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8701)
    p = add_command(subs, parser, "offer", "print a credential offer URI for a report")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--no-tx-code", action="store_true", help="offer without a transaction code")
    return parser


def _write(path: str | None, text: str) -> None:
    if path is None:
        return
    Path(path).write_text(text, encoding="utf-8")


def _issue(args: argparse.Namespace, cra: Cra) -> int:
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.count == 1:
        if not args.holder_jwk:
            raise UsageError("--holder-jwk FILE is required")
        issued = cra.issue(args.seed, PublicKey.from_jwk(read_json(args.holder_jwk)))
        _write(args.out, issued.credential)
        _write(args.receipt, issued.receipt.to_json())
        if wants_json(args):
            emit(args, issued.to_json())
        elif args.out is None:
            print(issued.credential)
        else:
            print(f"issued and anchored at registry index {issued.receipt.index}; "
                  f"digest {issued.digest}")
        return EXIT_OK
    return _bulk(args, cra)


def _bulk(args: argparse.Namespace, cra: Cra) -> int:
    """Issue many credentials, anchoring in batches, with a progress bar on stderr."""
    holder = PublicKey.from_jwk(read_json(args.holder_jwk)) if args.holder_jwk else None
    start, done, first_index = time.perf_counter(), 0, None
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    while done < args.count:
        n = min(args.batch, args.count - done)
        requests = [(args.seed + done + i, holder or PrivateKey.generate().public_key())
                    for i in range(n)]
        issued = cra.issue_batch(requests)
        if first_index is None:
            first_index = issued[0].receipt.index
        if out is not None:
            for seed_item, item in zip(requests, issued, strict=True):
                (out / f"{seed_item[0]}.sd-jwt").write_text(item.credential, encoding="utf-8")
        done += n
        rate = done / (time.perf_counter() - start)
        bar = "#" * int(30 * done / args.count)
        print(f"\r[{bar:<30}] {done}/{args.count}  {rate:,.0f}/s", end="", file=sys.stderr)
    print(file=sys.stderr)
    elapsed = time.perf_counter() - start
    emit(args, {"count": done, "first_index": first_index, "seconds": round(elapsed, 3),
                "per_second": round(done / elapsed, 1)},
         f"issued and anchored {done} credentials in {elapsed:.1f} s "
         f"({done / elapsed:,.0f}/s), registry indices from {first_index}")
    return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    home = home_of(args)
    if args.command == "init":
        config = init_issuer(home, cra=args.cra, url=args.url, registry=args.registry)
        emit(args, {"issuer": config.url, "cra": config.cra, "kid": config.kid,
                    "registry": config.registry},
             f"CRA {config.cra} ready at {config.url} (key {config.kid}); ask the registry "
             "operator to admit it: issuer-sim jwks > cra.json; "
             "hash-registry admit-issuer cra.json")
        return EXIT_OK
    if args.command == "report":
        from .reports import generate_report

        print(json.dumps(generate_report(args.seed), ensure_ascii=False,
                         indent=None if wants_json(args) else 2))
        return EXIT_OK
    if args.command == "serve":
        from .service import serve

        Cra(home).close()  # fail fast, with a named error, if the home is not initialised
        serve(home, args.host, args.port)
        return EXIT_OK
    with Cra(home) as cra:
        if args.command == "jwks":
            print(json.dumps(cra.metadata(), indent=None if wants_json(args) else 2))
            return EXIT_OK
        if args.command == "issue":
            return _issue(args, cra)
        if args.command == "revoke":
            index = cra.revoke(args.digest, args.reason)
            emit(args, {"digest": args.digest.lower(), "revoked": True, "registry_index": index},
                 f"revoked {args.digest}" + (f" (registry index {index})" if index >= 0 else ""))
            return EXIT_OK
        if args.command == "offer":
            from .oid4vci import create_offer

            created = create_offer(cra, args.seed, tx_code=not args.no_tx_code)
            emit(args, {"uri": created.uri, "tx_code": created.tx_code, "offer": created.offer},
                 created.uri
                 + (f"\ntransaction code: {created.tx_code}" if created.tx_code else ""))
            return EXIT_OK
    raise UsageError(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser(), argv, _dispatch)


if __name__ == "__main__":
    raise SystemExit(main())
