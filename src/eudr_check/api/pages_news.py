"""The "What's new" page (Novedades): the organisation's nightly digests, newest first, each
item worded in the reader's language with a link to its plot or lot. Opening it marks the
items seen (the count in the navigation starts again from zero)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from eudr_check.api import deps, i18n
from eudr_check.api.pages_base import PageRoute, need, render, signed_in
from eudr_check.digest import describe
from eudr_check.store import Role

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MEMBERS = (Role.TECHNICIAN, Role.EXPORTER, Role.REVIEWER)


@router.get("/news")
def news_page(request: Request) -> Response:
    caller = need(signed_in(request), *MEMBERS)
    registry = deps.registry(request)
    assert caller.organisation_id is not None  # members always belong to one
    lang = i18n.lang_of(request)
    seen = registry.news_seen_at(caller.token_id)
    nights = []
    for d in registry.digests(caller.organisation_id):
        items = []
        for item in d.items:
            if "plot_key" in item:
                href = f"/plots/{item['plot_key']}"
            elif "lot_id" in item:
                href = f"/lots/{item['lot_id']}"
            else:
                href = None
            items.append({"kind": item["kind"], "text": describe(item, lang), "href": href})
        nights.append({"night": d.night, "entries": items, "mail": d.mail_status,
                       "new": seen is None or d.created_at > seen})  # fmt: skip
    page = render(request, "news.html", nights=nights, news_count=0)
    registry.mark_news_seen(caller.token_id)
    return page
