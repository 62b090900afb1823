"""Request and response bodies of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eudr_check.api.deps import MAX_ID
from eudr_check.store import OrgKind, Role

# Names and references: no control characters (PostgreSQL cannot store NUL; none belongs in a
# name). Lone surrogates never get this far: pydantic refuses them as invalid Unicode.
Text = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
# Registry ids fit PostgreSQL's integer (larger ones would fail in the driver, not as a 422).
Key = Annotated[int, Field(ge=1, le=MAX_ID)]


class Message(BaseModel):
    es: str
    en: str


class ErrorOut(BaseModel):
    """Every refusal of the API: the English text, a short code, the message in both languages."""

    detail: str | list[dict[str, Any]] = Field(
        description="English text; for invalid request data, the list of what is wrong."
    )
    code: str
    message: Message


class PlainError(BaseModel):
    detail: str


# The refusals every API route may answer with (its role, scope and limits decide which).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": PlainError, "description": "A body that cannot be parsed (not UTF-8, ...)"},
    401: {"model": ErrorOut, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "The caller's role cannot do this"},
    404: {"model": ErrorOut, "description": "Not found, or not the caller's to see"},
    409: {"model": ErrorOut, "description": "A conflict: a duplicate, or not ready yet"},
    413: {"model": ErrorOut, "description": "The request body is over the size limit"},
    422: {"model": ErrorOut, "description": "Invalid request data, or a file refused"},
    429: {"model": ErrorOut, "description": "Too many requests for this token (Retry-After)"},
}


class Organisation(BaseModel):
    id: int
    name: str
    kind: OrgKind
    created_at: dt.datetime


class NewOrganisation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Text
    kind: OrgKind


class Token(BaseModel):
    id: int
    name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Text
    role: Role
    organisation_id: Key | None = None


class CreatedToken(Token):
    token: str = Field(description="The secret: shown once, only its hash is stored.")


class Me(BaseModel):
    token_id: int
    name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None


class FindingOut(BaseModel):
    code: str
    severity: str
    plot_id: str | None
    source_index: int | None
    related_plot_id: str | None
    message: Message


class MissingTileOut(BaseModel):
    dataset_id: str
    version: str
    tile: str
    layers: list[str]
    plots: int
    optional: bool  # False: its plots cannot be called deforestation-free


class CheckState(BaseModel):
    state: Literal["pending", "done", "failed"]
    checked: int
    total: int
    error: str | None = None
    # The preflight: tiles the plots need that the data folder lacks, plots outside the files
    # present (per dataset), and the same in words with the download command to run.
    missing_tiles: list[MissingTileOut] = []
    outside: dict[str, int] = {}
    data_notes: list[Message] = []


class UploadOut(BaseModel):
    id: int
    file_name: str
    sha256: str
    fixed: bool
    rows: int
    new_plots: int
    new_versions: int
    unchanged: int
    duplicates: int
    created_at: dt.datetime
    check: CheckState


class ValidationSummary(BaseModel):
    plots: int
    ok: int
    warning: int
    error: int
    repaired: int
    findings: list[FindingOut]


class UploadDetail(UploadOut):
    validation: ValidationSummary


class ReasonOut(BaseModel):
    code: str
    dataset_id: str | None
    message: Message


class PlotOut(BaseModel):
    id: int = Field(description="The registry's key for the plot (used in URLs).")
    plot_id: str
    organisation_id: int
    organisation_name: str
    version: int
    version_id: int
    status: str = Field(description="Geolocation status after validation: ok, warning, error.")
    producer_name: str | None
    verdict: str | None = Field(description="Latest verdict; null while not yet checked.")
    reasons: list[ReasonOut]
    area_ha: float | None
    checked_at: dt.datetime | None
    run_id: str | None = Field(
        description="The run that produced the verdict (its reports carry the same id)."
    )


class PlotPage(BaseModel):
    total: int
    counts: dict[str, int]
    items: list[PlotOut]
    next_after: int | None = Field(
        default=None, description="Pass as `after` for the next page; null on the last page."
    )


class VersionOut(BaseModel):
    version: int
    version_id: int
    created_at: dt.datetime
    upload_id: int
    file_name: str
    status: str
    area_ha: float | None
    declared_area_ha: float | None
    producer_name: str | None
    production_place: str | None
    producer_country: str | None
    commodity: str | None
    geometry: dict[str, Any] | None
    original_wkt: str | None
    findings: list[FindingOut]
    results: list[dict[str, Any]]


class PlotDetail(PlotOut):
    versions: list[VersionOut]
    indicators: dict[str, str] | None = Field(
        default=None, description="Whisp's ind_01..ind_04 (yes/no/unknown) and risk_pcrop."
    )
    legality: list[FindingOut] = Field(
        default_factory=list, description="Protected areas and territories under the plot."
    )


class NewLot(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Text
    commodity: Literal["coffee", "cocoa"]
    hs_code: str = Field(
        pattern=r"^[0-9]{4}([0-9]{2}){0,2}$", description="HS code, 4 to 8 digits."
    )
    net_mass_kg: float = Field(gt=0, le=1e9)
    plots: list[Key] = Field(min_length=1, max_length=100_000, description="Plot ids (keys).")


class LotOut(BaseModel):
    id: int
    reference: str
    commodity: str
    hs_code: str | None
    net_mass_kg: float | None
    created_at: dt.datetime
    plots: int
    verdicts: dict[str, int]


class LotPlot(BaseModel):
    plot_id: str
    version_id: int
    organisation_name: str
    verdict: str | None


class LotDetail(LotOut):
    items: list[LotPlot]


class DdsFiling(BaseModel):
    """What the exporter says about the shipment when filing its due diligence statement; the
    lot gives the HS code, the net mass, the reference and the plots."""

    model_config = ConfigDict(extra="forbid")
    activity: Literal["IMPORT", "EXPORT", "DOMESTIC"] = "IMPORT"
    description: str | None = Field(default=None, min_length=1, max_length=150)
    country_of_activity: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    border_cross_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    operator_name: str | None = Field(default=None, min_length=1, max_length=200)
    eori: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{1,15}$")
    comment: str | None = Field(default=None, max_length=2000)
    confidential: bool = False


class DdsOut(BaseModel):
    id: int
    lot_id: int | None
    part: int
    parts: int
    uuid: str | None
    status: str
    reference_number: str | None
    verification_number: str | None
    rejection_reason: str | None
    communication: str | None
    error: str | None
    plots: int
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    checked_at: dt.datetime | None


class NewOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plot_id: str = Field(min_length=1, max_length=200, description="The plot's id in the lot.")
    reason: str = Field(min_length=1, max_length=2000,
                        description="Why it is declared despite its verdict (recorded as an "
                        "accepted review with reason 'other').")  # fmt: skip


class DdsVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference_number: str = Field(min_length=1, max_length=14)
    verification_number: str = Field(min_length=5, max_length=35)


class DdsVerifyOut(BaseModel):
    result: Literal["EXISTING_USABLE", "EXISTING_NON_USABLE", "NON_EXISTENT"]
    status: str | None
    checked_at: dt.datetime
