"""Languages and bilingual texts: every text a user reads exists in Spanish and English.

One language type (`Lang`), one text type (`Text`) and one lookup (`Text.__call__`). Message
tables live beside the codes they explain (findings, reasons, commands, pages); they all hold
`Text` values and all render through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

# A value filled into a message template (a count, an area, a code).
Param = str | int | float


class Lang(StrEnum):
    ES = "es"  # the default: the first users are Peruvian cooperatives
    EN = "en"

    @classmethod
    def of(cls, value: str | Lang | None, default: Lang | None = None) -> Lang:
        """The language a code names ("es", "EN"...); `default` (Spanish) when it names none.

        Anything else is a ValueError: callers at the edges turn it into a clear refusal.
        """
        if value is None or value == "":
            return default or cls.ES
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"unknown language {value!r}: es | en") from None


@dataclass(frozen=True, slots=True)
class Text:
    """A text in both languages, optionally a `str.format` template."""

    es: str
    en: str

    def __call__(self, lang: Lang | str, /, **params: Any) -> str:
        # Reports call this a million times with a Lang already: no parsing then.
        if lang is Lang.ES or lang is Lang.EN:
            template = self.es if lang is Lang.ES else self.en
        else:
            template = self.es if Lang.of(lang) is Lang.ES else self.en
        return template.format(**params) if params else template

    def lenient(self, lang: Lang | str, /, **params: Any) -> str:
        """Like calling it, but a missing parameter (a finding read back from an older report)
        gives the text up to the first placeholder instead of an error."""
        try:
            return self(lang, **params)
        except (KeyError, IndexError):
            template = self.es if Lang.of(lang) is Lang.ES else self.en
            return template.split("{")[0].strip()

    def format(self, **params: Any) -> Text:
        """Both languages with the same parameters filled in."""
        return Text(self.es.format(**params), self.en.format(**params))

    def __add__(self, other: Text) -> Text:
        return Text(self.es + other.es, self.en + other.en)


def same(text: str) -> Text:
    """A text that reads the same in both languages (a code, a file name)."""
    return Text(text, text)


@cache
def _spanish_countries() -> Any:
    import gettext

    import pycountry

    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"], fallback=True)


def country_name(iso2: str, lang: Lang | str) -> str:
    """Country name in the reader's language ("Perú" / "Peru"); the code if unknown."""
    import pycountry

    found = pycountry.countries.get(alpha_2=iso2)
    if found is None:
        return iso2
    if Lang.of(lang) is Lang.EN:
        return str(found.name)
    return str(_spanish_countries().gettext(found.name))


# Bidirectional controls (embeddings, overrides, isolates, marks): in a name they can make
# "cod.exe" read "exe.doc" or flip a plot id. Users see them as a visible code instead.
_BIDI = {c: f"[U+{c:04X}]" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                     0x200E, 0x200F, 0x061C)}  # fmt: skip


def visible(text: str) -> str:
    """The text with its bidirectional control characters shown as [U+202E] and the like."""
    return text if text.isascii() else text.translate(_BIDI)
