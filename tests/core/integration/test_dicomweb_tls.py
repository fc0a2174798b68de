"""DICOMweb over https:// with a hospital CA: untrusted until the CA file is given (core, CLI).

The server is in-process (tests.pki.https_dicomweb says why Orthanc cannot serve https:// here).
"""

from __future__ import annotations

import json

import pytest

from pacs_console.core.dicomweb import client
from pacs_console.core.dicomweb.client import Endpoint
from pacs_console.core.errors import ConsoleError
from tests.conftest import run_cli
from tests.pki import https_dicomweb, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https_root(pki):
    with https_dicomweb(pki["good"]) as url:
        yield url


def test_untrusted_until_the_hospital_ca_is_given(https_root, pki):
    untrusted = client.qido(Endpoint(https_root), "study")
    assert not untrusted.ok and untrusted.diagnosis.code == "tls-untrusted-certificate"
    assert any("--ca-file" in action for action in untrusted.diagnosis.actions)
    trusted = client.qido(Endpoint(https_root, verify=pki["ca"]), "study")
    assert trusted.ok, trusted.diagnosis
    assert trusted.matches[0]["PatientID"] == "KB123456"
    assert trusted.evidence()["parameters"]["endpoint"]["tls_verify"] == pki["ca"]


def test_an_unusable_ca_file_is_named(tmp_path):
    not_pem = tmp_path / "ca.cer"
    not_pem.write_bytes(b"\x30\x82\x01\x0a not a PEM file")
    for path in (str(tmp_path / "missing.pem"), str(not_pem)):
        with pytest.raises(ConsoleError) as caught:
            Endpoint("https://127.0.0.1:1/dicom-web", verify=path).tls_context()
        assert caught.value.diagnosis.code == "tls-ca-file-unreadable"
        assert path in caught.value.diagnosis.what


def test_cli_ca_file_exit_codes(https_root, pki, data_dir):
    untrusted = run_cli("dicomweb", "qido", https_root, "--json", "--no-save", data_dir=data_dir)
    assert untrusted.returncode == 8, untrusted.stderr  # TLS
    assert "--ca-file" in untrusted.stdout
    trusted = run_cli("dicomweb", "qido", https_root, "--ca-file", pki["ca"], "--json",
                      data_dir=data_dir)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert json.loads(trusted.stdout)["result"]["matches"][0]["StudyInstanceUID"] == "1.2.3.4"
    missing = run_cli("dicomweb", "qido", https_root, "--ca-file", "/nonexistent/ca.pem",
                      data_dir=data_dir)
    assert missing.returncode == 2 and "cannot be used" in missing.stderr
    both = run_cli("dicomweb", "qido", https_root, "--ca-file", pki["ca"], "--insecure",
                   data_dir=data_dir)
    assert both.returncode == 2 and "contradict" in both.stderr
