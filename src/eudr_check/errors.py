"""One exception tree for the whole package.

Every error a user can cause carries its message in Spanish and English (`message(lang)`) and
names what it concerns (the file, the tile, the lot), so the shells show it without a
traceback: the CLI maps the tree to exit codes in one place (`cli.errors`), the web API to HTTP
statuses in one table (`api.errors`). Standard-library mix-ins (ValueError, OSError,
LookupError) keep `except ValueError:` working for callers that know nothing of ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eudr_check.i18n import Lang, Text, same


class EudrCheckError(Exception):
    """Root of every error raised on purpose by eudr_check."""

    def __init__(self, message: Text | str) -> None:
        self.text = message if isinstance(message, Text) else same(message)
        super().__init__(self.text.en)

    def message(self, lang: Lang | str = Lang.ES) -> str:
        return self.text(lang)


class PlotFileError(EudrCheckError, ValueError):
    """A plot file could not be read at all (CLI exit code 2, HTTP 422)."""

    def __init__(self, path: Path | str, message_es: str, message_en: str) -> None:
        self.path = Path(path)
        self.message_es = message_es
        self.message_en = message_en
        super().__init__(Text(f"{self.path.name}: {message_es}", f"{self.path.name}: {message_en}"))


class ConfigError(EudrCheckError, ValueError):
    """A setting, an option or a configuration file is invalid."""


class OptionError(EudrCheckError, ValueError):
    """An option given with the input (a country, a CRS, a layer) that cannot be used: the
    user's to fix (CLI exit code 2, HTTP 422 with `code`)."""

    def __init__(self, code: str, message_es: str, message_en: str) -> None:
        self.code = code
        super().__init__(Text(message_es, message_en))


class RasterError(EudrCheckError, ValueError):
    """A raster file that cannot be used as the product it claims to be (CRS, grid)."""


class DownloadError(EudrCheckError, OSError):
    """A tile could not be fetched (HTTP error, network, truncated transfer)."""

    def __init__(self, url: str, tile: str, reason: str) -> None:
        self.url = url
        self.tile = tile
        self.reason = reason
        EudrCheckError.__init__(
            self,
            Text(
                f"no se pudo descargar la tesela {tile}: {reason} ({url})",
                f"could not download tile {tile}: {reason} ({url})",
            ),
        )

    def __str__(self) -> str:  # OSError would print its errno fields instead
        return self.text.en


class StoreError(EudrCheckError, ValueError):
    """A registry request that cannot be honoured (unknown id, plots not shared, ...)."""


class AccessError(EudrCheckError, ValueError):
    """A request the registry refuses (unknown organisation, role not fitting the kind, ...)."""


class StaleResultsError(EudrCheckError, ValueError):
    """Stored results were required but some plots have none for today's data and thresholds."""

    def __init__(self, unchecked: Sequence[int], stale: Sequence[int]) -> None:
        self.unchecked = tuple(unchecked)  # plot version ids without any result
        self.stale = tuple(stale)  # plot version ids whose result no longer matches the data
        super().__init__(
            Text(
                f"{len(self.unchecked)} parcelas sin resultado y {len(self.stale)} con un "
                "resultado que ya no corresponde a los datos actuales",
                f"{len(self.unchecked)} plots without a result and {len(self.stale)} with a "
                "result that no longer matches today's data",
            )
        )


class ReviewError(EudrCheckError, ValueError):
    """A review, evidence file or lot exclusion that cannot be recorded as asked (HTTP 422)."""

    def __init__(self, message: Text, code: str = "bad_review") -> None:
        self.code = code
        super().__init__(message)


class BundleError(EudrCheckError, ValueError):
    """A lot that cannot be bundled: unknown, or plots without a result that still holds."""

    def __init__(
        self,
        lot_id: int,
        message_es: str,
        message_en: str,
        *,
        unknown_lot: bool = False,
        unchecked: Sequence[int] = (),
        stale: Sequence[int] = (),
    ) -> None:
        self.lot_id = lot_id
        self.unknown_lot = unknown_lot
        self.unchecked = tuple(unchecked)  # plot version ids without any result
        self.stale = tuple(stale)  # plot version ids whose result no longer matches the data
        super().__init__(Text(message_es, message_en))


class EvidenceUnavailable(EudrCheckError, LookupError):
    """No evidence map can be drawn: `reason` is "not_checked" or "no_geometry"."""

    def __init__(self, reason: str, message_es: str, message_en: str) -> None:
        self.reason = reason
        super().__init__(Text(message_es, message_en))


class DdsError(EudrCheckError, ValueError):
    """A due diligence statement that cannot be built or filed as asked (the user's to fix)."""


class DdsSchemaError(DdsError):
    """A request that does not validate against the EU's XSDs: each problem names the element
    and, inside a producer, its plots. Nothing is sent."""

    def __init__(self, problems: Sequence[object], lines_es: Sequence[str],
                 lines_en: Sequence[str]) -> None:  # fmt: skip
        self.problems = tuple(problems)
        more = len(self.problems) - len(lines_es)
        tail_es = f" (y {more} más)" if more > 0 else ""
        tail_en = f" (and {more} more)" if more > 0 else ""
        super().__init__(
            Text(
                "la declaración no cumple el esquema XSD de la UE: "
                + "; ".join(lines_es)
                + tail_es,
                "the statement does not meet the EU's XSD schema: " + "; ".join(lines_en) + tail_en,
            )
        )

    @classmethod
    def unreadable(cls, path: Path | str, reason: str) -> DdsSchemaError:
        name = Path(path).name
        return cls([reason], [f"{name}: no se puede leer como solicitud DDS ({reason})"],
                   [f"{name}: cannot be read as a DDS request ({reason})"])  # fmt: skip


class TracesError(EudrCheckError):
    """The EU Information System refused or could not be reached. `errors` keeps the EU's own
    (ID, Message, Field) triples; `fault` the fault code or detail element name."""

    def __init__(
        self, operation: str, message: Text, *, fault: str | None = None,
        errors: Sequence[tuple[str, str, str]] = (),
    ) -> None:  # fmt: skip
        self.operation = operation
        self.fault = fault
        self.errors = tuple(errors)
        super().__init__(message)

    @property
    def error_ids(self) -> list[str]:
        return [e[0] for e in self.errors]


class TracesRejected(TracesError, ValueError):
    """BusinessRulesValidationException: the statement breaks an EU business rule."""


class TracesSchemaRejected(TracesError, ValueError):
    """A plain `cvc-...` fault: the EU system found the request off its schema."""


class TracesNotFound(TracesError, LookupError):
    """NotFoundException: no such statement (for this operator)."""


class TracesPermissionDenied(TracesError, PermissionError):
    """PermissionDeniedException: the web-service user may not do this."""


class TracesAuthError(TracesError, PermissionError):
    """WS-Security refused: wrong or revoked key, unknown user, clock off, expired message."""


class TracesUnavailable(TracesError, OSError):
    """The EU system could not be reached or kept failing (after the retries). `maybe_sent`:
    a submission that may have arrived all the same (look it up before sending it again)."""

    maybe_sent: bool = False

    def __str__(self) -> str:  # OSError would print its errno fields instead
        return self.text.en


class ApiError(EudrCheckError):
    """A refusal of the web service: an HTTP status, a short code and the bilingual message."""

    def __init__(
        self, status: int, code: str, es: str, en: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(Text(es, en))
        self.status = status
        self.code = code
        self.headers = headers


class SignInRequired(Exception):
    """A page was asked for without a valid session: the pages answer with the sign-in form.
    Control flow of the web pages, not an error a caller made (hence outside the tree)."""


class BodyTooLarge(Exception):
    """A request body passed the size limit while streaming (the API answers 413)."""


class EudrCheckWarning(UserWarning):
    """Base of warnings emitted by eudr_check."""
