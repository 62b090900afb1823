"""A report folder's work in progress: parts written as the run goes, files made final at once.

Parts live in a hidden folder inside the report folder (same file system, so a finished file
is renamed into place, never copied half-way). `discard` removes every trace of a failed run;
files from an earlier run stay untouched until `commit`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import IO


class Staging:
    def __init__(self, out_dir: Path, stem: str) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.root = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".part", dir=out_dir))
        self._moves: list[tuple[Path, Path]] = []

    def part(self, name: str) -> IO[str]:
        """A text file for appending a report's body, UTF-8, "\\n" kept as written."""
        return (self.root / name).open("w", encoding="utf-8", newline="")

    def path(self, name: str) -> Path:
        return self.root / name

    def stage(self, final: Path) -> Path:
        """Where to write a file that becomes `final` at commit."""
        staged = self.root / "files" / str(len(self._moves))
        staged.parent.mkdir(parents=True, exist_ok=True)
        self._moves.append((staged, final))
        return staged

    def commit(self) -> None:
        """Staged files into place (each one atomically), then the parts go."""
        umask = os.umask(0)
        os.umask(umask)
        for staged, final in self._moves:
            if staged.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                staged.chmod(0o666 & ~umask)
                staged.replace(final)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
