"""Administration pages reachable on a web port: Orthanc Explorer, Orthanc Explorer 2, the
dcm4chee archive UI and common ``/admin`` paths. ONE GET each (paced), nothing posted, no
password tried; the answer is judged from its status, its authentication header or login
redirect, and a marker in the page (so a site answering every path with one page is not taken
for each product)."""

from __future__ import annotations

import re
from dataclasses import dataclass

TITLE_SCAN = 64 << 10  # the <title> is near the top; nothing beyond this is looked at
_TITLE = re.compile(rb"<title[^>]{0,200}>(.{0,400}?)</title", re.IGNORECASE | re.DOTALL)
_LOGIN = ("login", "signin", "sign-in", "auth", "sso", "keycloak", "realms/")


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    markers: tuple[bytes, ...]  # one must appear in the page (lower case) for an open finding


PAGES = (
    Page("/app/explorer.html", "Orthanc Explorer", (b"orthanc",)),
    Page("/ui/app/", "Orthanc Explorer 2", (b"orthanc",)),
    Page("/dcm4chee-arc/ui2/", "dcm4chee archive UI", (b"dcm4che",)),
    Page("/admin", "web administration page", (b"admin",)),
    Page("/manager/html", "Tomcat manager", (b"tomcat", b"manager")),
)


def title(body: bytes | None) -> str:
    """The page's <title>, printable and at most 80 characters ("" when none)."""
    if not body:
        return ""
    found = _TITLE.search(body[:TITLE_SCAN])
    if not found:
        return ""
    text = found.group(1).decode("utf-8", "replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text[:80]


def _header(headers: dict, name: str) -> str:
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)[:200]
    return ""


def judge(page: Page, url: str, status: int, headers: dict, body: bytes | None
          ) -> tuple[str, str] | None:
    """``(check, evidence)`` for one answer, or None (absent, refused, or not this page)."""
    if status == 401:
        scheme = _header(headers, "www-authenticate").split(" ", 1)[0][:20] or "some"
        return ("admin-page-login", f"GET {url} ({page.name}) answered 401: it asks for "
                                    f"{scheme} credentials")
    if status in (301, 302, 303, 307, 308):
        where = _header(headers, "location")
        if any(word in where.lower() for word in _LOGIN):
            return ("admin-page-login", f"GET {url} ({page.name}) answered {status}, "
                                        f"redirecting to a login page ({where[:120]})")
        return None
    if status != 200 or not body:
        return None
    kind = _header(headers, "content-type").lower()
    head = body[:TITLE_SCAN].lower()
    if "html" not in kind and not head.lstrip().startswith(b"<"):
        return None  # JSON, images, DICOM: not a page
    if not any(marker in head for marker in page.markers):
        return None  # some page, but not this product's (a catch-all answer)
    named = title(body)
    shown = f" titled {named!r}" if named else ""
    if any(word in head for word in (b'type="password"', b"type='password'", b"type=password")):
        return ("admin-page-login", f"GET {url} ({page.name}) answered 200 with a login "
                                    f"form{shown}")
    return ("admin-page-open", f"GET {url} ({page.name}) answered 200{shown} without "
                               "credentials (one GET, nothing else sent)")


def assess(run, service, base: str, fetch) -> None:
    """One GET per known page; ``fetch(url) -> (status, headers, body)`` on the web checks'
    keep-alive client, so the five small GETs are one paced burst on one connection (a
    browser opening one page sends more; a server closing each connection gets five short
    ones back to back)."""
    run.pace()
    for page in PAGES:
        url = base + page.path
        status, headers, body = fetch(url)
        if status == 0:
            run.skip("admin-page-open", service, f"no HTTP answer to GET {url} "
                     f"({headers.get('error', '')})")
            return
        found = judge(page, url, status, headers, body)
        if found:
            run.add(found[0], service, found[1])
