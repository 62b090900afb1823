"""What's new: the caller's organisation's nightly digests as JSON (the page's data), each
item worded in the asked language. Reading them here does not mark them seen (the page does)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from eudr_check.api import deps, schemas
from eudr_check.api.auth import Caller, member
from eudr_check.digest import describe
from eudr_check.i18n import Lang
from eudr_check.store import Registry

router = APIRouter(prefix="/api", tags=["news"], responses=schemas.ERROR_RESPONSES)


@router.get("/news", response_model=list[dict[str, Any]])
def news(
    caller: Annotated[Caller, Depends(member)],
    registry: Annotated[Registry, Depends(deps.registry)],
    lang: Annotated[Lang, Query()] = Lang.ES,
    nights: Annotated[int, Query(ge=1, le=90)] = 30,
) -> list[dict[str, Any]]:
    """The last `nights` digests, newest first: per night its items (kind, ids, figures and a
    `text`) and whether its e-mail went out."""
    assert caller.organisation_id is not None  # members always belong to one
    return [
        {"night": d.night, "counts": d.counts, "mail_status": d.mail_status,
         "created_at": d.created_at.isoformat(),
         "items": [{**i, "text": describe(i, lang)} for i in d.items]}
        for d in registry.digests(caller.organisation_id, limit=nights)
    ]  # fmt: skip
