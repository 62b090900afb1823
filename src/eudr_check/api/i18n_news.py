"""The web pages' texts for "What's new" (the nightly digests) and a lot's bundle state, in
Spanish and English (merged into api/i18n.py's catalog; same rule: both languages, same keys)."""

from __future__ import annotations

ES: dict[str, str] = {
    "nav.news": "Novedades",
    "news.title": "Novedades",
    "news.intro": "Lo que cambió en las corridas nocturnas: veredictos, alertas nuevas, "
    "revisiones desactualizadas, lotes, paquetes y declaraciones que ya no corresponden.",
    "news.none": "Nada cambió en las últimas noches.",
    "news.night": "Noche del {night}",
    "news.mail": "Correo: {status}",
    "news.mail.sent": "enviado",
    "news.mail.failed": "falló",
    "news.mail.sending": "enviándose",
    "news.unseen": "sin ver",
    "lot.bundle_last": "Último paquete: {file}, del {when}",
    "lot.bundle_stale": "desactualizado: los resultados cambiaron; genérelo de nuevo",
    "lot.bundle_current": "al día",
}

EN: dict[str, str] = {
    "nav.news": "What's new",
    "news.title": "What's new",
    "news.intro": "What the nightly runs changed: verdicts, new alerts, outdated reviews, and "
    "lots, bundles and statements that no longer match.",
    "news.none": "Nothing changed in the last nights.",
    "news.night": "Night of {night}",
    "news.mail": "E-mail: {status}",
    "news.mail.sent": "sent",
    "news.mail.failed": "failed",
    "news.mail.sending": "being sent",
    "news.unseen": "unseen",
    "lot.bundle_last": "Last bundle: {file}, of {when}",
    "lot.bundle_stale": "stale: the results changed since; build it again",
    "lot.bundle_current": "up to date",
}
