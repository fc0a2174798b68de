"""Address book validation and exchange formats: CSV, Orthanc DicomModalities, dcmqrscp HostTable, JSON."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, fields

from pacs_console.core.csvsafe import safe_dict, unsafe_cell
from pacs_console.core.db.nodes import NodeRecord, as_record
from pacs_console.core.dicom.wire.params import validate_ae_title

FORMATS = ("csv", "json", "orthanc", "dcmtk")
FORMAT_ALIASES = {"dcmqrscp": "dcmtk"}  # the CLI's name for dcmqrscp.cfg HostTables
JSON_FORMAT_NAME = "pacs-console-address-book"
JSON_VERSION = 1
CSV_COLUMNS = ("name", "ae_title", "host", "port", "tags", "notes", "tls", "tls_ca_file",
               "tls_cert_file", "tls_key_file", "tls_server_name")


_HOST_CHARS = re.compile(r"[A-Za-z0-9.\-_:\[\]%]{1,253}")


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
    if not name.isprintable() or len(name) > 128:
        errors.setdefault("name", "A name is at most 128 printable characters")
    if not host.strip():
        errors["host"] = "Enter the node's IP address or host name"
    elif re.search(r"\s", host.strip()):
        errors["host"] = "A host name cannot contain spaces"
    elif not _HOST_CHARS.fullmatch(host.strip()):
        errors["host"] = ("A host is an IP address or a name of letters, digits, '.', '-', '_' "
                          "and ':' (at most 253 characters)")
    elif check_resolves and not resolves(host.strip()):
        errors["host"] = (f"{host!r} does not resolve: check the spelling, or use the IP address "
                          "(the laptop may not reach the hospital's DNS)")
    return errors, warnings


# ---- export -------------------------------------------------------------------------------

def export_nodes(nodes: list[NodeRecord], fmt: str) -> str:
    fmt = FORMAT_ALIASES.get(fmt, fmt)
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
        # RFC 4180 line ends: a value holding a CR is then quoted, not a broken row.
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for node in nodes:
            writer.writerow(safe_dict({k: getattr(node, k) for k in CSV_COLUMNS}))
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
# Parsers are linear in the input and never raise for one bad entry: each gives ImportRows,
# a record or the reason it was refused. Only a file that is not the format at all raises.


@dataclass(frozen=True)
class ImportRow:
    """One entry of an import file: where it was, and the node or why it cannot be one."""

    where: str  # "line 3", "entry 2", "modality 'ct1'"
    record: NodeRecord | None
    problem: str = ""


def _row(where: str, **values) -> ImportRow:
    try:
        port = values.get("port")
        if isinstance(port, bool) or not isinstance(port, (int, str)):
            raise ValueError(f"port {port!r} is not a number")
        try:
            values["port"] = int(str(port).strip())
        except ValueError:
            raise ValueError(f"port {port!r} is not a number") from None
        for key in ("name", "ae_title", "host", "tags", "notes"):
            if not isinstance(values.get(key, ""), str):
                raise ValueError(f"{key} {values[key]!r} is not text")
        return ImportRow(where, as_record(**values))
    except (TypeError, ValueError, OverflowError) as exc:
        return ImportRow(where, None, str(exc))


def detect_format(text: str, filename: str = "") -> str:
    lowered = filename.lower()
    stripped = text.lstrip()
    if lowered.endswith(".cfg") or re.search(r"^[ \t]*HostTable[ \t]+BEGIN", text, re.M | re.I):
        return "dcmtk"
    if stripped.startswith("{"):
        try:
            data = json.loads(_strip_json_comments(text))
        except (json.JSONDecodeError, RecursionError):
            return "json"
        if isinstance(data, dict) and "DicomModalities" in data:
            return "orthanc"
        return "json"
    return "csv"


def parse_rows(text: str, fmt: str | None = None, filename: str = "") -> list[ImportRow]:
    """Every entry of an address-book file; raises AddressBookError when the file as a whole
    is not in the format (a per-entry problem is an ImportRow with ``problem``)."""
    fmt = FORMAT_ALIASES.get(fmt or "", fmt) or detect_format(text, filename)
    parsers = {"json": _from_json, "csv": _from_csv, "orthanc": _from_orthanc,
               "dcmtk": _from_dcmtk}
    if fmt not in parsers:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        return parsers[fmt](text)
    except RecursionError as exc:
        raise AddressBookError("The file nests too deeply to be an address book") from exc


def import_nodes(text: str, fmt: str | None = None, filename: str = "") -> list[NodeRecord]:
    """The records of a file; the first bad entry raises AddressBookError naming it."""
    records = []
    for row in parse_rows(text, fmt, filename):
        if row.record is None:
            raise AddressBookError(f"{row.where[:1].upper()}{row.where[1:]}: {row.problem}")
        records.append(row.record)
    return records


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _load_json(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AddressBookError(f"Not valid JSON: line {exc.lineno}, column {exc.colno}: "
                               f"{exc.msg}") from exc


def _from_json(text: str) -> list[ImportRow]:
    data = _load_json(text, "json")
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT_NAME:
        raise AddressBookError("This JSON is not a PACS Console address book (no 'format' marker)")
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise AddressBookError(f"'version' {version!r} is not a number")
    if version > JSON_VERSION:
        raise AddressBookError("Written by a newer PACS Console; update to import it")
    nodes = data.get("nodes", [])
    if not isinstance(nodes, list):
        raise AddressBookError("'nodes' must be a list of nodes")
    known = {f.name for f in fields(NodeRecord)} - {"id", "is_demo", "site_id",
                                                    "capabilities_at", "capabilities"}
    rows = []
    for index, entry in enumerate(nodes, 1):
        if not isinstance(entry, dict):
            rows.append(ImportRow(f"entry {index}", None, "not a JSON object"))
            continue
        values = {k: v for k, v in entry.items() if k in known}
        values.setdefault("port", None)
        if "tls" in values and not isinstance(values["tls"], bool):
            rows.append(ImportRow(f"entry {index}", None, "tls must be true or false"))
            continue
        rows.append(_row(f"entry {index}", **values))
    return rows


def _from_csv(text: str) -> list[ImportRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise AddressBookError(f"Not a readable CSV header: {exc}") from exc
    header = [h.strip().lower() for h in fieldnames]
    aliases = {"aet": "ae_title", "ae": "ae_title", "ae title": "ae_title", "aetitle": "ae_title",
               "ip": "host", "address": "host", "hostname": "host"}
    mapping = {raw: aliases.get(h, h) for raw, h in zip(fieldnames, header, strict=True)}
    if not {"ae_title", "host", "port"} <= set(mapping.values()):
        raise AddressBookError("CSV needs at least the columns ae_title, host and port "
                               f"(found: {', '.join(header) or 'none'})")
    rows = []
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(ImportRow(f"line {reader.line_num}", None, f"not readable CSV: {exc}"))
            break
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            rows.append(ImportRow(f"line {line}", None, "the number of columns differs from "
                                  "the header"))
            continue
        values = {mapping[k]: unsafe_cell(v.strip()) for k, v in row.items() if k in mapping}
        rows.append(_row(
            f"line {line}", name=values.get("name") or values["ae_title"],
            ae_title=values["ae_title"], host=values["host"], port=values.get("port", ""),
            tags=values.get("tags", ""), notes=values.get("notes", ""),
            tls=_truthy(values.get("tls", "")), tls_ca_file=values.get("tls_ca_file", ""),
            tls_cert_file=values.get("tls_cert_file", ""),
            tls_key_file=values.get("tls_key_file", ""),
            tls_server_name=values.get("tls_server_name", "")))
    return rows


def _strip_json_comments(text: str) -> str:
    """Orthanc's configuration files allow // and /* */ comments; json does not. One pass."""
    out: list[str] = []
    i, n, start = 0, len(text), 0
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "/" and text.startswith("//", i):
            out.append(text[start:i])
            end = text.find("\n", i)
            i = start = n if end < 0 else end
        elif c == "/" and text.startswith("/*", i):
            out.append(text[start:i])
            end = text.find("*/", i + 2)
            i = start = n if end < 0 else end + 2
        else:
            i += 1
    out.append(text[start:])
    return "".join(out)


def _from_orthanc(text: str) -> list[ImportRow]:
    data = _load_json(_strip_json_comments(text), "orthanc")
    modalities = data.get("DicomModalities", {}) if isinstance(data, dict) else {}
    if not isinstance(modalities, dict):
        raise AddressBookError("'DicomModalities' must be an object of modalities")
    rows = []
    for name, value in modalities.items():
        where = f"modality {name!r}"
        if isinstance(value, list) and len(value) >= 3:
            aet, host, port = value[0], value[1], value[2]
            notes = f"Manufacturer: {value[3]}" if len(value) > 3 else ""
        elif isinstance(value, dict) and {"AET", "Host", "Port"} <= set(value):
            aet, host, port = value["AET"], value["Host"], value["Port"]
            notes = f"Manufacturer: {value['Manufacturer']}" if "Manufacturer" in value else ""
        else:
            rows.append(ImportRow(where, None, "lacks AET, host or port"))
            continue
        if not isinstance(aet, str) or not isinstance(host, str):
            rows.append(ImportRow(where, None, "AET and host must be text"))
            continue
        rows.append(_row(where, name=name, ae_title=aet, host=host, port=port,
                         notes=notes if notes.isprintable() else ""))
    return rows


_NAME = re.compile(r"[\w.\-]+")


def _host_entry(line: str) -> tuple[str, str, str, str] | None:
    """'name = (AET, host, port)' split without backtracking: linear in the line."""
    name, sep, rest = line.partition("=")
    rest = rest.strip()
    if not sep or not rest.startswith("(") or not rest.endswith(")"):
        return None
    parts = [p.strip() for p in rest[1:-1].split(",")]
    name = name.strip()
    if len(parts) != 3 or not _NAME.fullmatch(name) or not all(parts):
        return None
    return name, parts[0], parts[1], parts[2]


def _from_dcmtk(text: str) -> list[ImportRow]:
    rows, inside = [], False
    for line_number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        words = line.split()
        if len(words) == 2 and words[0].lower() == "hosttable":
            if words[1].lower() == "begin":
                inside = True
                continue
            if words[1].lower() == "end":
                break
        if not inside or not line:
            continue
        entry = _host_entry(line)
        if entry is not None:
            name, aet, host, port = entry
            rows.append(_row(f"line {line_number}", name=name, ae_title=aet, host=host,
                             port=port))
        elif "=" in line and "(" not in line:
            continue  # a symbolic group ("all = a, b"): membership, not a node
        else:
            rows.append(ImportRow(f"line {line_number}", None,
                                  "expected 'name = (AETITLE, host, port)'"))
    if not rows:
        raise AddressBookError("No HostTable entries found (HostTable BEGIN ... HostTable END)")
    return rows
