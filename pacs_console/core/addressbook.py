"""Address book validation and exchange formats: CSV, Orthanc DicomModalities, dcmqrscp HostTable, JSON."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, fields

from pacs_console.core.db.nodes import NodeRecord, as_record
from pacs_console.core.dicom.params import validate_ae_title

FORMATS = ("csv", "json", "orthanc", "dcmtk")
JSON_FORMAT_NAME = "pacs-console-address-book"
JSON_VERSION = 1
CSV_COLUMNS = ("name", "ae_title", "host", "port", "tags", "notes", "tls", "tls_ca_file",
               "tls_cert_file", "tls_key_file", "tls_server_name")


class AddressBookError(ValueError):
    """An address-book file that cannot be read; the message names the line or entry."""


def resolves(host: str, timeout: float = 3.0) -> bool:
    """getaddrinfo has no timeout of its own: a dead DNS server would hang the caller."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(socket.getaddrinfo, host, None)
        try:
            return bool(future.result(timeout=timeout))
        except (OSError, FutureTimeout):
            return False


def validate_node(name: str, ae_title: str, host: str, port: int | str, *,
                  check_resolves: bool = True, taken_names: set[str] | frozenset = frozenset()
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """(errors, warnings) per field; errors block saving, warnings inform."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the node a name (e.g. 'Main PACS', 'CT 1')"
    elif name in taken_names:
        errors["name"] = f"Another node is already called {name!r}"
    problem = validate_ae_title(ae_title)
    if problem:
        errors["ae_title"] = problem
    elif ae_title != ae_title.upper():
        warnings["ae_title"] = ("Lower-case letters: most peers compare AE titles case-sensitively, "
                                "check it matches the node exactly")
    elif ae_title != ae_title.rstrip() or ae_title != ae_title.lstrip():
        warnings["ae_title"] = "Leading or trailing spaces: peers may or may not trim them"
    try:
        port_number = int(port)
    except (TypeError, ValueError):
        errors["port"] = f"Port {port!r} is not a number"
    else:
        if not 1 <= port_number <= 65535:
            errors["port"] = f"Port {port_number} is outside 1-65535"
    if not host.strip():
        errors["host"] = "Enter the node's IP address or host name"
    elif re.search(r"\s", host.strip()):
        errors["host"] = "A host name cannot contain spaces"
    elif check_resolves and not resolves(host.strip()):
        errors["host"] = (f"{host!r} does not resolve: check the spelling, or use the IP address "
                          "(the laptop may not reach the hospital's DNS)")
    return errors, warnings


# ---- export -------------------------------------------------------------------------------

def export_nodes(nodes: list[NodeRecord], fmt: str) -> str:
    if fmt == "json":
        keep = [f.name for f in fields(NodeRecord) if f.name not in ("id", "is_demo",
                                                                    "capabilities_at", "site_id")]
        entries = []
        for node in nodes:
            data = asdict(node)
            entries.append({k: data[k] for k in keep})
        return json.dumps({"format": JSON_FORMAT_NAME, "version": JSON_VERSION, "nodes": entries},
                          indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for node in nodes:
            writer.writerow({k: getattr(node, k) for k in CSV_COLUMNS})
        return out.getvalue()
    if fmt == "orthanc":
        modalities = {_symbol(n.name): {"AET": n.ae_title, "Host": n.host, "Port": n.port}
                      for n in nodes}
        return json.dumps({"DicomModalities": modalities}, indent=2)
    if fmt == "dcmtk":
        lines = ["HostTable BEGIN"]
        lines += [f"{_symbol(n.name)} = ({n.ae_title}, {n.host}, {n.port})" for n in nodes]
        lines.append("HostTable END")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _symbol(name: str) -> str:
    """dcmqrscp symbolic names and Orthanc modality keys: letters, digits and underscores."""
    return re.sub(r"\W+", "_", name.strip()).strip("_") or "node"


# ---- import -------------------------------------------------------------------------------

def detect_format(text: str, filename: str = "") -> str:
    lowered = filename.lower()
    stripped = text.lstrip()
    if lowered.endswith(".cfg") or re.search(r"^\s*HostTable\s+BEGIN", text, re.M | re.I):
        return "dcmtk"
    if stripped.startswith("{"):
        try:
            data = json.loads(_strip_json_comments(text))
        except json.JSONDecodeError:
            return "json"
        if isinstance(data, dict) and "DicomModalities" in data:
            return "orthanc"
        return "json"
    return "csv"


def import_nodes(text: str, fmt: str | None = None, filename: str = "") -> list[NodeRecord]:
    fmt = fmt or detect_format(text, filename)
    if fmt == "json":
        return _from_json(text)
    if fmt == "csv":
        return _from_csv(text)
    if fmt == "orthanc":
        return _from_orthanc(text)
    if fmt == "dcmtk":
        return _from_dcmtk(text)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _from_json(text: str) -> list[NodeRecord]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AddressBookError(f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT_NAME:
        raise AddressBookError("This JSON is not a PACS Console address book (no 'format' marker)")
    if int(data.get("version", 0)) > JSON_VERSION:
        raise AddressBookError("Written by a newer PACS Console; update to import it")
    known = {f.name for f in fields(NodeRecord)}
    records = []
    for index, entry in enumerate(data.get("nodes", []), 1):
        try:
            records.append(as_record(**{k: v for k, v in entry.items() if k in known}))
        except (TypeError, ValueError) as exc:
            raise AddressBookError(f"Entry {index}: {exc}") from exc
    return records


def _from_csv(text: str) -> list[NodeRecord]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    aliases = {"aet": "ae_title", "ae": "ae_title", "ae title": "ae_title", "aetitle": "ae_title",
               "ip": "host", "address": "host", "hostname": "host"}
    mapping = {raw: aliases.get(h, h) for raw, h in zip(reader.fieldnames or [], header, strict=True)}
    if not {"ae_title", "host", "port"} <= set(mapping.values()):
        raise AddressBookError("CSV needs at least the columns ae_title, host and port "
                           f"(found: {', '.join(header) or 'none'})")
    records = []
    for line, row in enumerate(reader, 2):
        values = {mapping[k]: (v or "").strip() for k, v in row.items() if k in mapping}
        try:
            port = int(values.get("port", ""))
        except ValueError as exc:
            raise AddressBookError(f"Line {line}: port {values.get('port')!r} is not a number") from exc
        records.append(as_record(
            name=values.get("name") or values["ae_title"], ae_title=values["ae_title"],
            host=values["host"], port=port, tags=values.get("tags", ""),
            notes=values.get("notes", ""), tls=_truthy(values.get("tls", "")),
            tls_ca_file=values.get("tls_ca_file", ""), tls_cert_file=values.get("tls_cert_file", ""),
            tls_key_file=values.get("tls_key_file", ""),
            tls_server_name=values.get("tls_server_name", "")))
    return records


def _strip_json_comments(text: str) -> str:
    """Orthanc's configuration files allow // and /* */ comments; json does not."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'^((?:[^"\n]|"(?:[^"\\\n]|\\.)*")*?)//.*$', r"\1", text, flags=re.M)


def _from_orthanc(text: str) -> list[NodeRecord]:
    try:
        data = json.loads(_strip_json_comments(text))
    except json.JSONDecodeError as exc:
        raise AddressBookError(f"Not valid JSON: line {exc.lineno}: {exc.msg}") from exc
    modalities = data.get("DicomModalities", {}) if isinstance(data, dict) else {}
    records = []
    for name, value in modalities.items():
        if isinstance(value, list) and len(value) >= 3:
            aet, host, port = value[0], value[1], value[2]
            notes = f"Manufacturer: {value[3]}" if len(value) > 3 else ""
        elif isinstance(value, dict) and {"AET", "Host", "Port"} <= set(value):
            aet, host, port = value["AET"], value["Host"], value["Port"]
            notes = f"Manufacturer: {value['Manufacturer']}" if "Manufacturer" in value else ""
        else:
            raise AddressBookError(f"DicomModalities entry {name!r} lacks AET, host or port")
        records.append(as_record(name=name, ae_title=str(aet), host=str(host), port=int(port),
                                 notes=notes))
    return records


_HOST_LINE = re.compile(r"^\s*([\w.\-]+)\s*=\s*\(\s*([^,]+?)\s*,\s*([^,]+?)\s*,\s*(\d+)\s*\)")


def _from_dcmtk(text: str) -> list[NodeRecord]:
    records, inside = [], False
    for line_number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if re.match(r"HostTable\s+BEGIN", line, re.I):
            inside = True
            continue
        if re.match(r"HostTable\s+END", line, re.I):
            break
        if not inside or not line:
            continue
        match = _HOST_LINE.match(line)
        if match:
            name, aet, host, port = match.groups()
            records.append(as_record(name=name, ae_title=aet, host=host, port=int(port)))
        elif "=" in line and "(" not in line:
            continue  # a symbolic group ("all = a, b"): membership, not a node
        else:
            raise AddressBookError(f"Line {line_number}: expected 'name = (AETITLE, host, port)'")
    if not records:
        raise AddressBookError("No HostTable entries found (HostTable BEGIN ... HostTable END)")
    return records
