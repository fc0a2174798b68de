"""DICOMweb credentials: basic or bearer, kept in the OS keyring per endpoint, never in files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

KINDS = ("none", "basic", "bearer")


@dataclass(frozen=True)
class Credentials:
    kind: str = "none"
    username: str = ""
    secret: str = ""  # password or token

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Credentials(kind={self.kind!r}, username={self.username!r}, secret='***')"

    def describe(self) -> str:
        if self.kind == "basic":
            return f"basic as {self.username!r}"
        return "bearer token" if self.kind == "bearer" else "no authentication"


def endpoint_key(url: str) -> str:
    """One keyring entry per scheme://host:port/path (query and trailing slash ignored)."""
    parts = urlsplit(url.strip())
    return f"dicomweb:{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def save_credentials(secrets, url: str, creds: Credentials) -> bool:
    """Returns True when the keyring will keep them after a restart."""
    if creds.kind not in KINDS:
        raise ValueError(f"authentication {creds.kind!r} not one of {', '.join(KINDS)}")
    if creds.kind == "none":
        secrets.delete(endpoint_key(url))
        return True
    return secrets.set(endpoint_key(url), json.dumps(
        {"kind": creds.kind, "username": creds.username, "secret": creds.secret}))


def load_credentials(secrets, url: str) -> Credentials:
    raw = secrets.get(endpoint_key(url)) if secrets is not None else None
    if not raw:
        return Credentials()
    try:
        data = json.loads(raw)
        return Credentials(data.get("kind", "none"), data.get("username", ""),
                           data.get("secret", ""))
    except (ValueError, AttributeError):
        return Credentials()


def httpx_auth(creds: Credentials):
    """(auth, headers) for httpx."""
    import httpx

    if creds.kind == "basic":
        return httpx.BasicAuth(creds.username, creds.secret), {}
    if creds.kind == "bearer":
        return None, {"Authorization": f"Bearer {creds.secret}"}
    return None, {}
