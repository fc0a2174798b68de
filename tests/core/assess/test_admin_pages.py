"""How one administration page answer is judged: open, behind a login (401, a redirect to a
login page, a password form), or not this page at all (404, 403, JSON, a catch-all page)."""

from __future__ import annotations

from pacs_console.core.assess.admin_pages import PAGES, judge, title

EXPLORER, OE2, DCM4CHEE, ADMIN, TOMCAT = PAGES
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _judge(page, status, headers, body):
    return judge(page, "http://10.0.0.5:8080" + page.path, status, headers, body)


def test_an_open_page_is_high_with_its_title():
    check, evidence = _judge(EXPLORER, 200, HTML,
                             b"<html><head><title>Orthanc Explorer</title></head></html>")
    assert check == "admin-page-open"
    assert "'Orthanc Explorer'" in evidence and "without credentials" in evidence


def test_a_login_is_info_whatever_form_it_takes():
    check, evidence = _judge(EXPLORER, 401, {"WWW-Authenticate": 'Basic realm="Orthanc"'}, b"")
    assert check == "admin-page-login" and "Basic credentials" in evidence
    check, evidence = _judge(DCM4CHEE, 302, {"Location": "https://10.0.0.5:8843/realms/dcm4che/"
                                             "protocol/openid-connect/auth?client_id=dcm4chee"},
                             b"")
    assert check == "admin-page-login" and "login page" in evidence
    check, _ = _judge(TOMCAT, 200, HTML, b"<title>Tomcat Manager</title><form>"
                                         b"<input type=\"password\" name=\"p\"></form>")
    assert check == "admin-page-login"


def test_absent_refused_or_other_pages_are_not_findings():
    assert _judge(OE2, 404, HTML, b"<title>Not found</title>") is None
    assert _judge(ADMIN, 403, HTML, b"<title>Forbidden</title>") is None
    assert _judge(ADMIN, 302, {"Location": "/home"}, b"") is None
    assert _judge(EXPLORER, 200, {"Content-Type": "application/json"}, b'{"orthanc": 1}') is None
    # A site answering every path with its one page is not every product's admin UI.
    page = b"<html><title>Radiology portal</title><body>Welcome</body></html>"
    assert all(_judge(p, 200, HTML, page) is None for p in PAGES)


def test_titles_are_short_printable_lines():
    assert title(b"<TITLE>\n  Orthanc\tExplorer \x07</TITLE>") == "Orthanc Explorer"
    assert len(title(b"<title>" + b"A" * 500 + b"</title>")) == 0  # no end within reach
    assert len(title(b"<title>" + b"A" * 300 + b"</title>")) == 80
    assert title(None) == "" and title(b"no title") == ""
