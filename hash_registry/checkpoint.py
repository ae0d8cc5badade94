"""tlog-checkpoint v1.0.0: the note text a log signs to commit to its tree.

::

    <origin>\\n
    <tree size, decimal, no leading zeros>\\n
    <root hash, standard base64>\\n
    [<extension line>\\n ...]

Parsing is strict so that one checkpoint has exactly one spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidCheckpoint, InvalidNote
from .merkle import MAX_TREE_SIZE
from .note import MAX_NOTE_SIZE, b64std_decode, b64std_encode

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_CONTROL = re.compile(r"[\x00-\x1f]")


def _check_line(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidCheckpoint(f"the {what} must be a non-empty string")
    if _CONTROL.search(value):
        raise InvalidCheckpoint(f"the {what} contains a newline or control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidCheckpoint(f"the {what} is not valid UTF-8") from exc
    return value


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, size and root (plus rarely-used extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise InvalidCheckpoint(f"tree size {self.size!r} is not in [0, 2**63-1]")
        if not isinstance(self.root, bytes) or not 1 <= len(self.root) <= 64:
            raise InvalidCheckpoint("the root hash must be 1-64 bytes")
        if not isinstance(self.extensions, tuple):
            if not isinstance(self.extensions, list):
                raise InvalidCheckpoint("extensions must be a tuple of strings")
            object.__setattr__(self, "extensions", tuple(self.extensions))
        for ext in self.extensions:
            _check_line(ext, "extension line")

    @property
    def root_b64(self) -> str:
        return b64std_encode(self.root)

    def to_text(self) -> str:
        """The checkpoint as note text (ends in a newline; sign it with ``sign_note``)."""
        head = f"{self.origin}\n{self.size}\n{self.root_b64}\n"
        return head + "".join(ext + "\n" for ext in self.extensions)

    @classmethod
    def parse(cls, text: str, *, hash_size: int = 32) -> Checkpoint:
        """Parse checkpoint note text; the root must be exactly ``hash_size`` bytes."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise InvalidCheckpoint("checkpoint text must end in a newline")
        if len(text) > MAX_NOTE_SIZE:
            raise InvalidCheckpoint(f"checkpoint text is larger than {MAX_NOTE_SIZE} bytes")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidCheckpoint("a checkpoint has an origin, a size and a root line")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise InvalidCheckpoint(f"tree size {size!r:.40} is not a canonical decimal")
        try:
            raw = b64std_decode(root, what="the root hash")
        except InvalidNote as exc:
            raise InvalidCheckpoint(exc.message) from exc
        if len(raw) != hash_size:
            raise InvalidCheckpoint(f"the root hash is {len(raw)} bytes, expected {hash_size}")
        return cls(origin, int(size), raw, tuple(extensions))
