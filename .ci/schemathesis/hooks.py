"""Schemathesis hooks: call a `writ serve --demo` server as one role.

WRIT_ST_ROLE says who calls:

- ``anonymous``: nothing is added;
- ``reviewer``, ``approver`` or ``admin``: the demo user of that role signs in
  to the console through its form (password and TOTP code) and every request
  carries the console session cookie and the user's personal access token;
- ``agency``: every request to an agency route is signed with the demo
  agency's key (RFC 9421 over ``@method``, ``@path`` and ``content-digest``,
  docs/http.md), and every request carries a portal session opened with a
  signed challenge.

WRIT_ST_DATA is the demo server's data folder (its keys and users file) and
WRIT_ST_URL its base URL.
"""

import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import struct
import time
import urllib.parse

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROLE = os.environ.get("WRIT_ST_ROLE", "anonymous")
DATA = os.environ.get("WRIT_ST_DATA", "writ-data")
URL = os.environ.get("WRIT_ST_URL", "http://127.0.0.1:8080").rstrip("/")
AGENCY = os.environ.get("WRIT_ST_AGENCY", "us-fbi-wfo")

_state = {}


def _totp(secret: str, at: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def _field(page: str, name: str) -> str:
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    if not m:
        raise RuntimeError(f"no `{name}` field on the page")
    return html.unescape(m.group(1))


def _console(role: str):
    """The first demo user of `role`: (cookie header, bearer token)."""
    with open(os.path.join(DATA, "demo", "console-users.txt")) as f:
        users = [line.split() for line in f if line.strip()]
    user = next(u for u in users if u[0] == role)
    name, password, uri, token = user[1], user[2], user[3], user[4]
    secret = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
    s = requests.Session()
    page = s.get(f"{URL}/console").text
    # A code is accepted once: sign in with the next step's if this one
    # was used already (a second run within 30 seconds).
    for at in (time.time(), time.time() + 30):
        r = s.post(
            f"{URL}/console/sign-in",
            data={"name": name, "password": password, "code": _totp(secret, at), "csrf": _field(page, "csrf")},
            allow_redirects=False,
        )
        if "writ_console" in s.cookies:
            return f"writ_console={s.cookies['writ_console']}", token
        page = s.get(f"{URL}/console").text
        time.sleep(31 - time.time() % 30)
    raise RuntimeError(f"console sign-in as {name} failed: {r.status_code} {r.text[:200]}")


def _agency_key() -> Ed25519PrivateKey:
    with open(os.path.join(DATA, "demo", "agencies", AGENCY, "signing.key")) as f:
        seed = base64.b64decode(f.read().strip())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _key_id(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{AGENCY}:{hashlib.sha256(public).hexdigest()[:16]}"


def _portal(key: Ed25519PrivateKey) -> str:
    s = requests.Session()
    page = s.get(f"{URL}/portal").text
    challenge = _field(page, "challenge")
    signature = key.sign(f"writ-portal-sign-in-v1\n{challenge}".encode())
    s.post(
        f"{URL}/portal/sign-in",
        data={
            "agency": AGENCY,
            "challenge": challenge,
            "signature": base64.b64encode(signature).decode(),
            "csrf": _field(page, "csrf"),
        },
        allow_redirects=False,
    )
    if "writ_portal" not in s.cookies:
        raise RuntimeError("portal sign-in failed")
    return f"writ_portal={s.cookies['writ_portal']}"


def _setup():
    if _state or ROLE == "anonymous":
        return
    if ROLE in ("reviewer", "approver", "admin"):
        _state["cookie"], _state["token"] = _console(ROLE)
    elif ROLE == "agency":
        key = _agency_key()
        _state["key"] = key
        _state["key_id"] = _key_id(key)
        _state["cookie"] = _portal(key)
    _state["ready"] = True


def _is_agency_route(path: str) -> bool:
    return path == "/v1/orders" or path.startswith("/v1/cases")


def _sign(case, key: Ed25519PrivateKey, key_id: str):
    body = b""
    if case.body is not None and not isinstance(case.body, schemathesis.core.NotSet):
        if isinstance(case.body, bytes):
            body = case.body
        else:
            # What `requests` sends for a JSON body, byte for byte.
            try:
                body = json.dumps(case.body, allow_nan=False).encode()
            except (TypeError, ValueError):
                return
    path = urllib.parse.urlsplit(requests.Request(case.method, URL + case.formatted_path).prepare().url).path
    digest = "sha-256=:%s:" % base64.b64encode(hashlib.sha256(body).digest()).decode()
    params = '("@method" "@path" "content-digest");created=%d;keyid="%s";alg="ed25519";nonce="%s"' % (
        int(time.time()),
        key_id,
        secrets.token_hex(12),
    )
    base = '"@method": %s\n"@path": %s\n"content-digest": %s\n"@signature-params": %s' % (
        case.method.upper(),
        path,
        digest,
        params,
    )
    signature = base64.b64encode(key.sign(base.encode())).decode()
    case.headers = dict(case.headers or {})
    case.headers.update(
        {
            "Content-Digest": digest,
            "Signature-Input": "sig1=" + params,
            "Signature": "sig1=:%s:" % signature,
        }
    )


@schemathesis.auth()
class WritAuth:
    """The role's credentials, as schemathesis's authentication provider, so
    that its own checks of missing or wrong credentials still run."""

    def get(self, case, ctx):
        _setup()
        return _state

    def set(self, case, data, ctx):
        if ROLE == "anonymous":
            return
        case.headers = dict(case.headers or {})
        if "cookie" in data:
            case.headers["Cookie"] = data["cookie"]
        if "token" in data:
            case.headers["Authorization"] = "Bearer " + data["token"]
        if "key" in data and _is_agency_route(case.operation.path):
            _sign(case, data["key"], data["key_id"])


def submit_case() -> str:
    """Submits a search warrant as the demo agency and returns its case id:
    the case the run's `{id}` parameters name, so that the review routes
    reach a real case."""
    key = _agency_key()
    order = {
        "reference": "SCHEMATHESIS-%s" % secrets.token_hex(4),
        "agency": AGENCY,
        "instrument": "search_warrant",
        "legal_basis": "18 U.S.C. 2703(a)",
        "issued_by": {"kind": "judge"},
        "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400)),
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 10 * 86400)),
        "targets": [{"kind": "email", "value": "alice@example.com"}],
        "categories": ["subscriber", "content"],
    }

    class Case:
        method = "POST"
        formatted_path = "/v1/orders"
        body = order
        headers = None

    case = Case()
    _sign(case, key, _key_id(key))
    r = requests.post(URL + "/v1/orders", data=json.dumps(order).encode(), headers={**case.headers, "Content-Type": "application/json"})
    r.raise_for_status()
    return r.json()["case"]
