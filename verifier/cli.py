"""`verifier`: the bank's side (CLI.md). Exit 0 verified/ok, 1 rejected/failed, 2 usage."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

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

from .home import DEFAULT_URL, add_issuer, add_registry, identity, init_verifier


def _parser() -> argparse.ArgumentParser:
    parser, subs = make_parser("verifier", "A mainland bank's verifier of selfcarry presentations.")
    p = add_command(subs, parser, "init", "create the bank's identity and request-signing key")
    p.add_argument("--client-id", required=True, help="the bank's client identifier (a URI)")
    p.add_argument("--name", help="the bank's display name")
    p.add_argument("--url", default=DEFAULT_URL, help="where `verifier serve` is reachable")
    add_command(subs, parser, "identity", "print {client_id, name, jwks} for the registry")
    trust = add_command(subs, parser, "trust", "manage what this bank trusts")
    tsubs = trust.add_subparsers(dest="trust_command", metavar="WHAT", required=True)
    p = add_command(tsubs, parser, "add-issuer", "trust a CRA (its JWT VC Issuer Metadata)")
    p.add_argument("file")
    p.add_argument("--name")
    p = add_command(tsubs, parser, "add-registry", "trust a registry (hash-registry keys --json)")
    p.add_argument("keys_file")
    p.add_argument("--url", help="a hash-registry serve URL, or a registry home on this machine")
    p.add_argument("--quorum", type=int, help="witness cosignatures required (default: all)")
    p = add_command(subs, parser, "request", "create a fresh presentation request")
    p.add_argument("--query", default="loan-precheck", help="loan-precheck, or a DCQL JSON file")
    p.add_argument("--purpose", default="Consumer loan pre-check / 个人贷款预审")
    p.add_argument("--ttl", type=int, default=600)
    p.add_argument("--qr", help="also write the request URI as a QR code (PNG)")
    p = add_command(subs, parser, "verify", "verify a presentation against a request")
    p.add_argument("file", nargs="?", help="the presentation (SD-JWT+KB or response JSON)")
    p.add_argument("--qr", nargs="+", metavar="PNG", help="read it from QR images or a GIF")
    p.add_argument("--request", required=True, help="the request file (verifier request --json)")
    p = add_command(subs, parser, "serve", "run the OpenID4VP endpoints and the counter page")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8702)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (they share state through this home's stores)")
    return parser


def _human_result(doc: dict[str, object]) -> str:
    lines = ["VERIFIED" if doc["verified"] else f"REJECTED: {doc['reason']} — {doc['message']}"]
    for check in doc["checks"]:  # type: ignore[attr-defined]
        lines.append(f"  [{'ok' if check['ok'] else 'FAIL'}] {check['name']}: {check['detail']}")
    policy = doc.get("policy")
    if isinstance(policy, dict):
        lines.append(f"policy: {policy['decision']}")
        for reason in policy.get("reasons", []):
            lines.append(f"  - {reason['en']} / {reason['zh-Hans']}")
    return "\n".join(lines)


def _verify(args: argparse.Namespace) -> int:
    from .verify import Verifier

    if (args.file is None) == (args.qr is None):
        raise UsageError("give a presentation FILE or --qr PNG..., not both")
    if args.qr:
        from vc.qr import decode_images, decode_presentation

        presentation = decode_presentation(decode_images([Path(p) for p in args.qr]))
    else:
        presentation = read_input(args.file)
    request = read_json(args.request)  # the bank's own file: not JSON is an input error (2)
    with Verifier.from_home(home_of(args)) as verifier:
        result = verifier.verify(presentation, request=request)
    doc = result.to_json()
    emit(args, doc, _human_result(doc))
    return EXIT_OK if result.verified else EXIT_FAILED


def _dispatch(args: argparse.Namespace) -> int:
    home = home_of(args)
    if args.command == "init":
        config = init_verifier(home, client_id=args.client_id, name=args.name, url=args.url)
        emit(args, {"client_id": config.client_id, "name": config.name, "url": config.url},
             f"bank {config.name} ({config.client_id}) ready; ask the registry operator to "
             "admit it: verifier identity > bank.json; hash-registry admit-verifier bank.json")
        return EXIT_OK
    if args.command == "identity":
        emit(args, identity(home))
        return EXIT_OK
    if args.command == "trust":
        if args.trust_command == "add-issuer":
            meta = add_issuer(home, read_json(args.file), args.name)
            emit(args, {"issuer": meta.issuer, "keys": [kid for kid, _ in meta.keys]},
                 f"now trusting {meta.issuer}")
        else:
            log = add_registry(home, read_json(args.keys_file), args.url, args.quorum)
            emit(args, {"origin": log.origin, "quorum": log.quorum, "url": args.url},
                 f"now trusting registry {log.origin} (witness quorum {log.quorum})")
        return EXIT_OK
    if args.command == "request":
        from .verify import Verifier

        query = args.query if args.query == "loan-precheck" else read_json(args.query)
        with Verifier.from_home(home) as verifier:
            request = verifier.create_request(query, args.purpose, ttl=args.ttl)
        if args.qr:
            from vc.qr import render_png

            Path(args.qr).write_bytes(render_png(request.uri))
        emit(args, request.to_json(), f"{request.uri}\n(request id {request.id}, "
             f"expires in {args.ttl} s)")
        return EXIT_OK
    if args.command == "verify":
        return _verify(args)
    if args.command == "serve":
        from .service import serve

        serve(home, args.host, args.port, workers=args.workers)
        return EXIT_OK
    raise UsageError(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser(), argv, _dispatch)


if __name__ == "__main__":
    raise SystemExit(main())
