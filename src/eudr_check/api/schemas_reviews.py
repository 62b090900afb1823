"""Request and response bodies of the review endpoints: evidence, reviews, the review queue
and a lot's conclusion (part of the OpenAPI schema like schemas.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from eudr_check.api.schemas import Message

Sha256 = Field(pattern=r"^[0-9a-f]{64}$")


class EvidenceOut(BaseModel):
    id: int
    plot_id: str
    version_id: int = Field(description="The plot version current when the file was attached.")
    sha256: str
    file_name: str
    kind: str
    kind_text: Message
    media_type: str
    size: int
    note: str
    taken_at: str | None = Field(description="EXIF date the photo was taken (camera time).")
    lat: float | None = Field(description="EXIF GPS latitude of the photo.")
    lon: float | None
    distance_m: float | None = Field(description="Geodesic distance from the photo to the plot.")
    far: bool = Field(description="Taken farther from the plot than the service's limit.")
    uploaded_by: str
    uploaded_role: str
    created_at: dt.datetime
    url: str


class ImageryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layer: str = Field(min_length=1, max_length=200, description="The imagery layer looked at.")
    date: str | None = Field(
        default=None, max_length=40, description="The imagery's date or period, as given."
    )


class NewReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["proposed", "accepted", "excluded"] = Field(
        description="Technicians propose; exporters and reviewers accept or exclude."
    )
    reasons: list[str] = Field(min_length=1, max_length=11, description="Reason codes.")
    note: str = Field(default="", max_length=4000)
    evidence: list[str] = Field(
        default_factory=list, max_length=100, description="SHA-256 of the plot's evidence files."
    )
    imagery: ImageryIn | None = None


class ReviewOut(BaseModel):
    id: int
    plot_id: str
    version_id: int
    fingerprint: str = Field(description="The result judged: a new one makes this outdated.")
    verdict: str = Field(description="The verdict judged.")
    action: str
    reasons: list[str]
    reason_texts: list[Message]
    note: str
    reviewer: str
    role: str
    organisation_id: int
    created_at: dt.datetime
    evidence: list[str]
    imagery: dict[str, str | None] | None


class PlotReviews(BaseModel):
    plot_id: str
    version_id: int
    verdict: str | None
    state: str = Field(description="not_needed, open, accepted, excluded or outdated.")
    state_text: Message
    decision: ReviewOut | None = Field(description="The decision that counts for the caller.")
    events: list[ReviewOut] = Field(description="Every proposal and decision, oldest first.")
    evidence: list[EvidenceOut]


class QueueItemOut(BaseModel):
    id: int = Field(description="The plot's registry key.")
    plot_id: str
    organisation_id: int
    producer_name: str | None
    version_id: int
    verdict: str
    state: str
    decision: ReviewOut | None
    proposals: int = Field(description="Proposals not yet answered by a decision.")
    evidence: int


class BlockingOut(BaseModel):
    version_id: int
    plot_id: str
    why: str
    verdict: str | None
    message: Message


class TakenOutOut(BaseModel):
    version_id: int
    plot_id: str
    reason: str
    by: str
    at: dt.datetime


class ConclusionOut(BaseModel):
    conclusion: Literal["negligible", "not_negligible"]
    summary: Message
    plots: int = Field(description="Plots in the lot, less those taken out.")
    deforestation_free: int
    accepted_by_review: int
    blocking: list[BlockingOut]
    taken_out: list[TakenOutOut]
    country_risk: dict[str, str] = Field(description="Producer country -> EU benchmark level.")
    regime: Message = Field(description="The due-diligence regime the conclusion applied.")
    benchmark_source: str


class TakeOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plots: list[str] = Field(min_length=1, max_length=100_000, description="Plot ids in the lot.")
    reason: str = Field(min_length=1, max_length=2000)
