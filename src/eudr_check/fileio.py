"""File utilities every layer shares: atomic writes and SHA-256 checksums.

Atomic: a reader never sees a half-written report, tile or bundle (temporary file beside the
target, then rename). Checksums stream in blocks, so a 600 MB raster tile costs no memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any, Protocol

BLOCK = 1 << 20


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes the file private (0600); reports are meant to be read like any other file.
    umask = os.umask(0)
    os.umask(umask)
    tmp_path.chmod(0o666 & ~umask)
    try:
        yield tmp_path
        tmp_path.replace(target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str, encoding: str = "utf-8") -> None:
    write_bytes(target, text.encode(encoding))


def feed(hasher: Hasher, stream: IO[bytes]) -> None:
    """Everything left in a binary stream into a running hash, block by block."""
    while block := stream.read(BLOCK):
        hasher.update(block)


def hash_stream(stream: IO[bytes]) -> str:
    """SHA-256 of everything left in a binary stream."""
    h = hashlib.sha256()
    feed(h, stream)
    return h.hexdigest()


def hash_blocks(blocks: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for block in blocks:
        h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    """SHA-256 of a file, read in blocks."""
    with Path(path).open("rb") as fh:
        return hash_stream(fh)


@cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def sha256_file_cached(path: Path | str) -> str:
    """SHA-256 of a file, computed once per process while its size and time stay the same
    (raster tiles are read by many runs and chunks; hashing 600 MB each time would dominate)."""
    st = Path(path).stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


def strict_json(value: Any) -> Any:
    """Nested values as strict JSON, which every reader and database accepts: NaN and
    infinities become null, numpy scalars plain numbers, tuples lists, keys text."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: as they are
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
