"""Sending e-mail through the configured SMTP server: STARTTLS (verified against the system's
or the configured CA) and credentials when set. One message, many recipients; the Message-ID
is ours, so the registry can say which message went out."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from eudr_check.errors import ConfigError
from eudr_check.settings import Settings


class MailError(Exception):
    """The SMTP server could not be reached or refused the message (worth a retry)."""


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def send(settings: Settings, to: Sequence[str], subject: str, text: str,
         html: str | None = None, headers: dict[str, str] | None = None) -> str:  # fmt: skip
    """Send one message to `to`; its Message-ID. MailError for network and server refusals,
    ConfigError when no SMTP host is set."""
    if not settings.smtp_host:
        raise ConfigError("no SMTP server is set (EUDR_CHECK_SMTP_HOST)")
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2].strip(">") or None)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=settings.smtp_timeout_s) as smtp:  # fmt: skip
            smtp.ehlo()
            if settings.smtp_starttls:
                cafile = str(settings.smtp_cafile) if settings.smtp_cafile else None
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
                smtp.ehlo()
            if settings.smtp_user:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_user, password)
            smtp.send_message(msg, to_addrs=list(to))
    except (smtplib.SMTPException, OSError) as exc:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise MailError(f"SMTP {where}: {type(exc).__name__}: {exc}") from None
    return str(msg["Message-ID"])
