"""One exception tree for the whole package.

Every error a user can cause carries a message in Spanish and English and names the file it
concerns, so shells (CLI, API, flows) can show it without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class EudrCheckError(Exception):
    """Root of every error raised on purpose by eudr_check."""


class PlotFileError(EudrCheckError, ValueError):
    """A plot file could not be read at all (CLI exit code 2)."""

    def __init__(self, path: Path | str, message_es: str, message_en: str) -> None:
        self.path = Path(path)
        self.message_es = message_es
        self.message_en = message_en
        super().__init__(f"{self.path.name}: {message_en}")

    def message(self, lang: str = "es") -> str:
        text = self.message_es if lang == "es" else self.message_en
        return f"{self.path.name}: {text}"


class ConfigError(EudrCheckError, ValueError):
    """A setting or configuration file is invalid."""


class EudrCheckWarning(UserWarning):
    """Base of warnings emitted by eudr_check."""
