"""The CRA's own records (SQLite, WAL): offers, tokens, nonces and issued credentials.

Single-use values (pre-authorized codes, access tokens, c_nonces) are consumed with
one conditional UPDATE, so two concurrent redemptions can never both succeed — even
across processes (`issuer-sim offer` writes offers that `issuer-sim serve` redeems).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import IssuerError

SCHEMA = """
CREATE TABLE IF NOT EXISTS offers (
    code TEXT PRIMARY KEY, tx_code TEXT, seed INTEGER NOT NULL, config_id TEXT NOT NULL,
    expires INTEGER NOT NULL, redeemed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, seed INTEGER NOT NULL, config_id TEXT NOT NULL,
    expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS credentials (
    digest TEXT PRIMARY KEY, status_idx INTEGER NOT NULL UNIQUE, seed INTEGER,
    iat INTEGER NOT NULL, exp INTEGER NOT NULL, registry_index INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0, reason TEXT);
"""


@dataclass(frozen=True)
class Offer:
    code: str
    tx_code: str | None
    seed: int
    config_id: str
    expires: int


@dataclass(frozen=True)
class IssuedRecord:
    digest: str
    status_idx: int
    seed: int | None
    iat: int
    exp: int
    registry_index: int | None
    revoked: bool
    reason: str | None


class IssuerState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _consume(self, sql: str, args: tuple[object, ...]) -> bool:
        with self._lock:
            return self._db.execute(sql, args).rowcount == 1

    # offers and tokens ------------------------------------------------------------

    def add_offer(self, offer: Offer) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO offers VALUES (?,?,?,?,?,0)",
                (offer.code, offer.tx_code, offer.seed, offer.config_id, offer.expires),
            )

    def offer(self, code: str) -> tuple[Offer, bool] | None:
        row = self._db.execute("SELECT code, tx_code, seed, config_id, expires, redeemed "
                               "FROM offers WHERE code = ?", (code,)).fetchone()
        return None if row is None else (Offer(*row[:5]), bool(row[5]))

    def redeem_offer(self, code: str, now: int) -> bool:
        return self._consume("UPDATE offers SET redeemed = 1 WHERE code = ? AND redeemed = 0 "
                             "AND expires > ?", (code, now))

    def add_token(self, token: str, seed: int, config_id: str, expires: int) -> None:
        with self._lock:
            self._db.execute("INSERT INTO tokens VALUES (?,?,?,?,0)",
                             (token, seed, config_id, expires))

    def peek_token(self, token: str, now: int) -> tuple[int, str] | None:
        row = self._db.execute("SELECT seed, config_id FROM tokens WHERE token = ? AND used = 0 "
                               "AND expires > ?", (token, now)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def use_token(self, token: str, now: int) -> tuple[int, str] | None:
        with self._lock:
            row = self._db.execute("UPDATE tokens SET used = 1 WHERE token = ? AND used = 0 "
                                   "AND expires > ? RETURNING seed, config_id",
                                   (token, now)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def new_nonce(self, expires: int) -> str:
        nonce = secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute("INSERT INTO nonces VALUES (?,?,0)", (nonce, expires))
        return nonce

    def use_nonce(self, nonce: str, now: int) -> bool:
        return self._consume("UPDATE nonces SET used = 1 WHERE nonce = ? AND used = 0 "
                             "AND expires > ?", (nonce, now))

    # issued credentials and their status-list slots ----------------------------------

    def allocate_status_indices(self, count: int, size: int) -> list[int]:
        """Distinct random free slots, so a slot number says nothing about issuance order."""
        if count > size - self.count_issued():
            raise IssuerError("the status list is full", code="status_list_full")
        chosen: set[int] = set()
        with self._lock:
            while len(chosen) < count:
                idx = secrets.randbelow(size)
                if idx not in chosen and self._db.execute(
                        "SELECT 1 FROM credentials WHERE status_idx = ?", (idx,)
                ).fetchone() is None:
                    chosen.add(idx)
        return list(chosen)

    def record_issued(self, records: Sequence[IssuedRecord]) -> None:
        """Record a batch in one transaction (one fsync, not one per credential)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?)",
                                 [(r.digest, r.status_idx, r.seed, r.iat, r.exp,
                                   r.registry_index, int(r.revoked), r.reason) for r in records])

    def set_registry_indices(self, pairs: Sequence[tuple[str, int]]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE credentials SET registry_index = ? WHERE digest = ?",
                                 [(index, digest) for digest, index in pairs])

    def issued(self, digest: str) -> IssuedRecord | None:
        row = self._db.execute("SELECT * FROM credentials WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            return None
        digest, idx, seed, iat, exp, reg_index, revoked, reason = row
        return IssuedRecord(digest, idx, seed, iat, exp, reg_index, bool(revoked), reason)

    def mark_revoked(self, digest: str, reason: str) -> bool:
        return self._consume("UPDATE credentials SET revoked = 1, reason = ? WHERE digest = ? "
                             "AND revoked = 0", (reason, digest))

    def revoked_indices(self) -> list[int]:
        return [r[0] for r in self._db.execute(
            "SELECT status_idx FROM credentials WHERE revoked = 1")]

    def count_issued(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM credentials").fetchone()[0])
