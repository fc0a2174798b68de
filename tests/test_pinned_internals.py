"""pynetdicom internals that core/dicom/wire/ae.py and core/dicom/ops/store.py patch: if a release
drops or renames one, this fails naming it, before a field visit finds out the hard way."""

from __future__ import annotations

import inspect
import re
import socket
import tomllib
from importlib.metadata import version

import pynetdicom
from pynetdicom import AE, _config
from pynetdicom.sop_class import Verification

from pacs_console.core.dicom.wire.ae import make_ae
from tests.conftest import ROOT

# (where, name) for every private attribute the console reads or replaces.
ASSOCIATION_ATTRS = ("_reactor_checkpoint", "_kill", "_is_paused", "is_established", "dul",
                     "dimse", "kill", "release")
DUL_ATTRS = ("_run_loop_delay", "stop_dul", "is_alive", "socket")
DIMSE_ATTRS = ("get_msg",)
CONFIG_ATTRS = ("LOG_REQUEST_IDENTIFIERS", "LOG_RESPONSE_IDENTIFIERS", "LOG_HANDLER_LEVEL",
                "STORE_SEND_CHUNKED_DATASET")


def _missing(obj, names, where: str) -> list[str]:
    return [f"{where}.{name}" for name in names if not hasattr(obj, name)]


def _explain(missing: list[str]) -> str:
    return (f"pynetdicom {pynetdicom.__version__} lacks {', '.join(missing)}, which "
            "core/dicom/wire/ae.py (or store.py) patches: adapt the patch before allowing this "
            "version (pyproject pins pynetdicom to its tested minor range)")


def test_the_patched_pynetdicom_internals_still_exist():
    missing = _missing(_config, CONFIG_ATTRS, "pynetdicom._config")
    params = list(inspect.signature(AE._create_socket).parameters)
    if params[1:4] != ["assoc", "address", "tls_args"]:
        missing.append(f"AE._create_socket(assoc, address, tls_args) (now {params})")
    server = make_ae("INTERNALS", supported=[Verification])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scp = server.serve(("127.0.0.1", port))
    try:
        assoc = make_ae("PROBE", requested=[Verification]).associate("127.0.0.1", port,
                                                                     ae_title="INTERNALS")
        try:
            assert assoc.is_established
            missing += _missing(assoc, ASSOCIATION_ATTRS, "Association")
            missing += _missing(assoc.dul, DUL_ATTRS, "DULServiceProvider")
            missing += _missing(assoc.dimse, DIMSE_ATTRS, "DIMSEServiceProvider")
            if hasattr(assoc, "_reactor_checkpoint"):
                for name in ("set", "is_set", "clear"):
                    if not hasattr(assoc._reactor_checkpoint, name):
                        missing.append(f"Association._reactor_checkpoint.{name}")
            assert assoc.send_c_echo().Status == 0
        finally:
            assoc.release()
    finally:
        scp.shutdown()
    assert not missing, _explain(missing)


def test_pyproject_bounds_pynetdicom_to_the_tested_minor_range():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if d.lower().startswith("pynetdicom"))
    installed = version("pynetdicom")
    major, minor = installed.split(".")[:2]
    assert re.search(rf"<\s*{major}\.{int(minor) + 1}\b", spec), (
        f"pyproject allows {spec!r}: bound it below {major}.{int(minor) + 1}, the next minor "
        "release, whose internals have not been checked")
