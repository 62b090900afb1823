"""WS-Security as the EU system checks it: digest vectors worked out outside Python (openssl),
and the header the client sends (Timestamp first, one minute, a fresh nonce, never the key)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from lxml import etree

from eudr_check.dds import contract
from eudr_check.dds.wsse import EudrUsernameToken, password_digest

# printf nonce created key | openssl dgst -sha1 -binary | base64
VECTORS = [
    (bytes(range(16)), "2026-12-03T10:00:00Z", "test-auth-key", "jlItDwjc27GHdrXoIEFZX1ah/aA="),
    (base64.b64decode("WScqanjCEAC4mQoBE07sAQ=="), "2003-07-16T01:24:32Z", "Ié-ü clé 🔑",
     "MdeKhbn/NSNOhpvOLeD3zKzXsqI="),
]  # fmt: skip
WSSE = f"{{{contract.WSSE_NS}}}"
WSU = f"{{{contract.WSU_NS}}}"


@pytest.mark.parametrize(("nonce", "created", "key", "expected"), VECTORS)
def test_password_digest_matches_vectors_computed_by_hand(
    nonce: bytes, created: str, key: str, expected: str
) -> None:
    assert password_digest(nonce, created, key) == expected


def _envelope() -> etree._Element:
    env = etree.Element(f"{{{contract.SOAP_NS}}}Envelope")
    etree.SubElement(env, f"{{{contract.SOAP_NS}}}Header")
    etree.SubElement(env, f"{{{contract.SOAP_NS}}}Body")
    return env


def test_the_security_header_has_a_one_minute_timestamp_first_and_a_checkable_digest() -> None:
    token = EudrUsernameToken("eudr-user", "s3cret-key")
    env, _ = token.apply(_envelope(), {})
    security = env.find(f"{{{contract.SOAP_NS}}}Header/{WSSE}Security")
    assert security is not None
    assert security[0].tag == f"{WSU}Timestamp"
    created = dt.datetime.fromisoformat(
        security[0].findtext(f"{WSU}Created").replace("Z", "+00:00")
    )
    expires = dt.datetime.fromisoformat(
        security[0].findtext(f"{WSU}Expires").replace("Z", "+00:00")
    )
    assert expires - created == dt.timedelta(seconds=60)
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(seconds=5)
    ut = security.find(f"{WSSE}UsernameToken")
    assert ut.findtext(f"{WSSE}Username") == "eudr-user"
    password = ut.find(f"{WSSE}Password")
    assert password.get("Type").endswith("#PasswordDigest")
    nonce = base64.b64decode(ut.findtext(f"{WSSE}Nonce"))
    assert len(nonce) == 16
    token_created = ut.findtext(f"{WSU}Created")
    assert token_created == security[0].findtext(f"{WSU}Created")
    assert password.text == password_digest(nonce, token_created, "s3cret-key")
    assert b"s3cret-key" not in etree.tostring(env)


def test_every_message_gets_a_fresh_nonce_and_timestamp() -> None:
    token = EudrUsernameToken("eudr-user", "k")
    first, _ = token.apply(_envelope(), {})
    second, _ = token.apply(_envelope(), {})
    nonces = [e.findtext(f".//{WSSE}Nonce") for e in (first, second)]
    assert nonces[0] != nonces[1]
    for env in (first, second):
        assert len(env.findall(f".//{WSU}Timestamp")) == 1
