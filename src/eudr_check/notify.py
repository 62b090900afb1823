"""Telling people: each organisation's digest of the night as one e-mail (in its people's
language; both when they differ), at most one per organisation per night and never twice (the
registry's claim on the digest decides who sends), and a failed nightly run to the admins.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from eudr_check.digest import describe
from eudr_check.i18n import Lang, Text
from eudr_check.mail import MailError, configured, send
from eudr_check.settings import Settings
from eudr_check.store.nightly import DigestInfo, Recipient
from eudr_check.store.registry import Registry

_SUBJECT = Text(
    "eudr_check: novedades del {night} ({n})", "eudr_check: what changed on {night} ({n})"
)
_INTRO = Text(
    "Esto cambió anoche en sus parcelas y lotes. Véalo en {url}",
    "This changed overnight in your plots and lots. See it at {url}",
)
_MORE = Text("… y {n} más en {url}", "… and {n} more at {url}")
# An e-mail lists this many items at most (a new tile over a big lot can change hundreds of
# plots); the page has them all.
MAIL_ITEMS = 50
_FAILED_SUBJECT = Text("eudr_check: falló la corrida nocturna del {night}",
                       "eudr_check: the nightly run of {night} failed")  # fmt: skip
_FAILED = Text(
    "La corrida nocturna del {night} falló en el paso «{step}»: {error}\nEl registro guarda el "
    "detalle (nightly_runs, id {id}); la próxima corrida vuelve a intentarlo.",
    "The nightly run of {night} failed at step '{step}': {error}\nThe registry keeps the "
    "details (nightly_runs, id {id}); the next run tries again.",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MailOutcome:
    organisation_id: int
    night: str
    status: str  # sent, already_sent, no_recipients, not_configured, failed
    to: tuple[str, ...] = ()
    message_id: str | None = None
    error: str | None = None


def _langs(people: Sequence[Recipient]) -> list[Lang]:
    found = sorted({Lang.of(p.lang) for p in people}, key=lambda x: x.value != "es")
    return found or [Lang.ES]


def compose(digest: DigestInfo, langs: Sequence[Lang], public_url: str) -> tuple[str, str, str]:
    """(subject, text, html) of a digest's e-mail in the given languages, in order."""
    url = f"{public_url.rstrip('/')}/news"
    n = digest.counts.get("items", len(digest.items))
    subject = " / ".join(_SUBJECT(lang, night=digest.night, n=n) for lang in langs)
    text_parts, html_parts = [], []
    shown, rest = digest.items[:MAIL_ITEMS], len(digest.items) - MAIL_ITEMS
    for lang in langs:
        lines = [describe(item, lang) for item in shown]
        more = [_MORE(lang, n=rest, url=url)] if rest > 0 else []
        text_parts.append(_INTRO(lang, url=url) + "\n\n"
                          + "\n".join([*(f"- {x}" for x in lines), *more]))  # fmt: skip
        links = []
        for item, line in zip(shown, lines, strict=True):
            key = item.get("plot_key")
            href = f"{public_url.rstrip('/')}/plots/{key}" if key else url
            links.append(f'<li><a href="{html.escape(href)}">{html.escape(line)}</a></li>')
        links.extend(f"<li>{html.escape(m)}</li>" for m in more)
        intro = html.escape(_INTRO(lang, url=url))
        html_parts.append(f'<section lang="{lang.value}"><p>{intro}</p><ul>{"".join(links)}</ul>'
                          "</section>")  # fmt: skip
    return subject, "\n\n----\n\n".join(text_parts), "<hr>".join(html_parts)


def mail_digest(registry: Registry, digest: DigestInfo, settings: Settings) -> MailOutcome:
    """Send the digest's e-mail unless it went out already (a run of the same night again
    sends nothing). A failure is recorded and raised as MailError, for the task's retry."""
    base = (digest.organisation_id, digest.night)
    if digest.mail_status == "sent":
        return MailOutcome(*base, "already_sent", tuple(digest.mail_to), digest.mail_id)
    if not configured(settings):
        return MailOutcome(*base, "not_configured")
    people = registry.recipients(digest.organisation_id)
    if not people:
        return MailOutcome(*base, "no_recipients")
    if not registry.claim_mail(digest.id):  # another run is sending it, or sent it
        return MailOutcome(*base, "already_sent")
    to = tuple(dict.fromkeys(p.email for p in people))
    subject, text, page = compose(digest, _langs(people), settings.public_url)
    try:
        tag = {"X-EUDR-Check-Digest": f"{digest.organisation_id}/{digest.night}"}
        message_id = send(settings, to, subject, text, page, headers=tag)
    except MailError as exc:
        registry.finish_mail(digest.id, "failed", to, error=str(exc))
        raise
    registry.finish_mail(digest.id, "sent", to, message_id)
    return MailOutcome(*base, "sent", to, message_id)


def tell_admins(registry: Registry, night_id: int, night: str, step: str, error: str,
                settings: Settings) -> bool:  # fmt: skip
    """E-mail the admins that the night's run failed, once per run; True if sent."""
    people = registry.recipients(None)
    if not configured(settings) or not people or not registry.claim_admin_alert(night_id):
        return False
    langs = _langs(people)
    subject = " / ".join(_FAILED_SUBJECT(lang, night=night) for lang in langs)
    body = "\n\n".join(_FAILED(lang, night=night, step=step, error=error, id=night_id)
                       for lang in langs)  # fmt: skip
    send(settings, tuple(dict.fromkeys(p.email for p in people)), subject, body)
    return True
