"""Where the wallet keeps its state: ``<home>/wallet/``.

One ``--home`` holds every party's state (DESIGN.md conventions), so the wallet
lives in its own sub-directory. ``home`` comes from, in order: the caller
(``--home``), ``$SELFCARRY_HOME``, the platform's user data directory for
``selfcarry``. The wallet directory is created owner-only (0700): even though
nothing in it is readable without the passphrase, its existence and sizes are
nobody else's business.

Layout::

    <home>/wallet/vault.db        the encrypted vault (SQLite, WAL) — see wallet.vault
    <home>/wallet/vault.db-wal    SQLite's write-ahead log (ciphertext only), while open
    <home>/wallet/trust.json      trusted registries/issuers: public keys and URLs, no
                                  personal data, so it stays readable without unlocking
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "SELFCARRY_HOME"
WALLET_DIR = "wallet"
VAULT_FILE = "vault.db"
TRUST_FILE = "trust.json"

PathLike = str | os.PathLike[str]


def resolve_home(home: PathLike | None = None) -> Path:
    """The home directory: explicit argument, else ``$SELFCARRY_HOME``, else the platform's."""
    if home is not None and str(home) != "":
        return Path(home).expanduser().absolute()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().absolute()
    return Path(platformdirs.user_data_dir("selfcarry", appauthor=False)).absolute()


def wallet_dir(home: PathLike | None = None) -> Path:
    return resolve_home(home) / WALLET_DIR


def ensure_wallet_dir(home: PathLike | None = None) -> Path:
    """Create ``<home>/wallet`` (owner-only) if needed and return it."""
    d = wallet_dir(home)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def vault_path(home: PathLike | None = None) -> Path:
    return wallet_dir(home) / VAULT_FILE


def trust_path(home: PathLike | None = None) -> Path:
    return wallet_dir(home) / TRUST_FILE


def fsync_dir(path: Path) -> None:
    """Make a rename or link inside ``path`` durable (no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
