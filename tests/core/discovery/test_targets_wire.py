"""Target parsing and its refusals, port lists, the A-ASSOCIATE-RQ bytes, DNS-SD TXT parsing."""

from __future__ import annotations

import pytest
from pynetdicom.pdu import A_ASSOCIATE_RQ

from pacs_console.core.discovery import dnssd, wire
from pacs_console.core.discovery.aetitles import DICTIONARY, candidates
from pacs_console.core.discovery.targets import parse_ports, parse_targets
from pacs_console.core.errors import ConsoleError
from tests.core.discovery.lab import ORTHANC_PORT


def test_cidr_dash_ranges_and_host_lists():
    assert len(parse_targets("127.0.0.0/24")) == 254  # network and broadcast left out
    assert parse_targets("127.0.0.5/31").addresses == ("127.0.0.4", "127.0.0.5")
    assert parse_targets("127.0.0.41-43").addresses == ("127.0.0.41", "127.0.0.42", "127.0.0.43")
    assert len(parse_targets("10.0.0.250-10.0.1.4")) == 11
    listed = parse_targets("127.0.0.9, 127.0.0.7 127.0.0.9;localhost")
    assert listed.addresses == ("127.0.0.9", "127.0.0.7", "127.0.0.1")
    assert listed.loopback_only and not parse_targets("192.168.1.1").loopback_only


def _refusal(text: str, **options):
    """The diagnosis ``parse_targets`` refuses ``text`` with."""
    with pytest.raises(ConsoleError) as caught:
        parse_targets(text, **options)
    return caught.value.diagnosis


@pytest.mark.parametrize(("text", "code"), [
    ("10.0.0.0/15", "targets-too-large"),
    ("10.0.0.0/16 10.1.0.1", "targets-too-large"),
    ("8.8.8.0/30", "targets-public"),
    ("192.168.1.1, 1.1.1.1", "targets-public"),
    ("fe80::1/64", "targets-ipv6"),
    ("10.0.0.9-3", "targets-invalid"),
    ("10.0.0.300", "targets-invalid"),
    ("bad_name!", "targets-invalid"),
    ("", "targets-empty"),
])
def test_unsafe_or_invalid_targets_are_refused_with_a_diagnosis(text, code):
    diagnosis = _refusal(text)
    assert diagnosis.code == code and diagnosis.actions


def test_public_ranges_need_explicit_permission():
    allowed = parse_targets("8.8.8.0/30", allow_public=True)
    assert allowed.public == ("8.8.8.0/30",) and len(allowed) == 2
    assert parse_targets("10.0.0.0/16").public == ()
    # carrier-grade NAT and link-local are not the site's own network: asked like public ones
    assert parse_targets("100.64.0.1", allow_public=True).public == ("100.64.0.1",)


@pytest.mark.parametrize(("text", "code"), [
    ("0.0.0.0/24", "targets-special"),
    ("255.255.255.255", "targets-special"),
    ("224.0.0.1", "targets-special"),
    ("239.255.255.0/24", "targets-special"),
    ("100.64.0.0/16", "targets-public"),
    ("169.254.0.0/16", "targets-public"),
    ("169.254.1.1", "targets-public"),
    ("10.255.255.250-11.0.0.3", "targets-public"),
])
def test_special_purpose_ranges_are_refused_or_asked(text, code):
    assert _refusal(text).code == code
    if code == "targets-special":  # refused even with permission for public ranges
        _refusal(text, allow_public=True)


def test_ports():
    assert parse_ports("11110, 104 4243") == (104, 4243, 11110)
    assert parse_ports("2761-2763") == (2761, 2762, 2763)
    assert parse_ports([80, 80, 443]) == (80, 443)
    for bad in ("0", "70000", "1-3000", "http"):
        with pytest.raises(ConsoleError):
            parse_ports(bad)


def test_associate_rq_is_a_valid_pdu():
    data = wire.associate_rq("ORTHANC", "PACSCONSOLE", "PACSCONSOLE_010")
    pdu = A_ASSOCIATE_RQ()
    pdu.decode(data)
    assert pdu.called_ae_title == "ORTHANC" and pdu.calling_ae_title == "PACSCONSOLE"
    (context,) = pdu.presentation_context
    assert context.abstract_syntax == wire.VERIFICATION
    assert pdu.user_information.implementation_version_name == "PACSCONSOLE_010"


def test_answers_are_classified():
    reject = bytes([3, 0, 0, 0, 0, 4, 0, 1, 1, 7])
    answer = wire.classify(reject)
    assert answer.kind == "rejected" and answer.called_ae_rejected
    assert "called AE" in answer.detail
    calling = wire.classify(bytes([3, 0, 0, 0, 0, 4, 0, 1, 1, 3]))
    assert calling.kind == "rejected" and not calling.called_ae_rejected
    assert wire.classify(bytes([7, 0, 0, 0, 0, 4, 0, 0, 2, 0])).kind == "aborted"
    assert "HTTP" in wire.classify(b"HTTP/1.1 400 Bad Request\r\n\r\n").detail
    assert wire.classify(b"").detail.startswith("closed")
    assert wire.classify(b"SSH-2.0-OpenSSH_9.2\r\n").kind == "not-dicom"


def test_candidates_put_known_titles_first_without_repeats():
    got = candidates(ORTHANC_PORT, known=["MAINPACS"], hints=["ORTHANC"], site_titles=["CT_ROOM2"])
    assert got[:3] == [("MAINPACS", "address-book"), ("ORTHANC", "announced"),
                       ("CT_ROOM2", "site-inventory")]
    titles = [t for t, _ in got]
    assert len(titles) == len(set(titles))
    assert all(len(t) <= 16 for t in DICTIONARY)
    assert candidates(104, known=["X"], dictionary=False) == [("X", "address-book")]


def test_dns_sd_txt_and_instance_names():
    items = dnssd.announcement("_dicom._tcp.local.", "Main\\032PACS._dicom._tcp.local.",
                               ["127.0.0.5", "fe80::1"], 104, {b"AET": b"MAINPACS", b"x": None})
    assert [(a.instance, a.host, a.port, a.ae_title) for a in items] == [
        ("Main PACS", "127.0.0.5", 104, "MAINPACS")]
    assert items[0].txt == {"AET": "MAINPACS", "x": ""}
    # Without TXT AET= the instance name is the AE title (PS3.15 H.2); not for DICOMweb.
    (bare,) = dnssd.announcement("_dicom-tls._tcp.local.", "CTROOM._dicom-tls._tcp.local.",
                                 ["127.0.0.6"], 2762, {})
    assert (bare.service_type, bare.ae_title) == ("_dicom-tls._tcp", "CTROOM")
    (web,) = dnssd.announcement("_dicomweb._tcp.local.", "Archive._dicomweb._tcp.local.",
                                ["127.0.0.7"], 8080, {b"path": b"/dicom-web"})
    assert web.ae_title == ""
