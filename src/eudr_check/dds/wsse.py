"""WS-Security for the EU Information System: UsernameToken with PasswordDigest, plus a
`wsu:Timestamp` valid for one minute (the CF1 specification's upper bound).

PasswordDigest = Base64(SHA-1(nonce bytes + Created + authentication key)), the nonce sent
Base64-encoded: zeep's UsernameToken computes it; this adds a fresh Timestamp to every message
(zeep's own is fixed when the token is made) and puts it first, as the EU samples do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from lxml import etree
from zeep import ns
from zeep.wsse import utils
from zeep.wsse.username import UsernameToken

TIMESTAMP_S = 60


def password_digest(nonce: bytes, created: str, key: str) -> str:
    """Base64(SHA-1(nonce + created + key)): what the server recomputes from the message."""
    raw = nonce + created.encode("utf-8") + key.encode("utf-8")
    return base64.b64encode(hashlib.sha1(raw).digest()).decode("ascii")


def zulu(moment: dt.datetime) -> str:
    """2026-12-03T10:00:00Z: UTC to the second, as zeep writes the token's Created."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EudrUsernameToken(UsernameToken):
    """The EU's UsernameToken: digest, nonce, Created, and a one-minute Timestamp per message."""

    def __init__(self, username: str, key: str, validity_s: int = TIMESTAMP_S) -> None:
        super().__init__(username, key, use_digest=True)
        self.validity_s = validity_s

    def apply(self, envelope: Any, headers: Any) -> Any:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        created = zulu(now)
        # The token's Created and the Timestamp's Created are the same instant.
        self.created = now
        self.zulu_timestamp = True
        stamp = utils.WSU.Timestamp(
            utils.WSU.Created(created),
            utils.WSU.Expires(zulu(now + dt.timedelta(seconds=self.validity_s))),
        )
        stamp.set(etree.QName(ns.WSU, "Id"), "TS-1")
        self.timestamp_token = stamp
        try:
            envelope, headers = super().apply(envelope, headers)
        finally:
            self.created = None
            self.timestamp_token = None
        security = utils.get_security_header(envelope)
        security.remove(stamp)
        security.insert(0, stamp)
        return envelope, headers
