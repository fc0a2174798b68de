"""Address book: validation messages and every exchange format, round trips included."""

from __future__ import annotations

import pytest

from pacs_console.core.addressbook import (
    AddressBookError,
    detect_format,
    export_nodes,
    import_nodes,
    validate_node,
)
from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import (
    as_record,
    delete_node,
    duplicate_node,
    get_node,
    list_nodes,
    save_node,
    set_capabilities,
    update_node,
)

NODES = [
    as_record(name="Korle Bu PACS", ae_title="KBTH_PACS", host="127.0.0.11", port=4243,
              tags="pacs,archive", notes="Main archive, ward 3 server room", tls=True,
              tls_ca_file="/etc/ca.pem", tls_cert_file="/etc/me.pem", tls_key_file="/etc/me.key",
              tls_server_name="pacs.kbth.local"),
    as_record(name="CT 1", ae_title="CT_SOMATOM", host="127.0.0.12", port=104, tags="modality"),
]


def test_valid_node_has_no_errors():
    assert validate_node("PACS", "PACS", "127.0.0.1", 104) == ({}, {})


@pytest.mark.parametrize("field, args, fragment", [
    ("name", ("", "AE", "127.0.0.1", 104), "name"),
    ("ae_title", ("n", "", "127.0.0.1", 104), "empty"),
    ("ae_title", ("n", "X" * 17, "127.0.0.1", 104), "16"),
    ("ae_title", ("n", "A\\B", "127.0.0.1", 104), "backslash"),
    ("port", ("n", "AE", "127.0.0.1", 0), "1-65535"),
    ("port", ("n", "AE", "127.0.0.1", "http"), "not a number"),
    ("host", ("n", "AE", "", 104), "IP address"),
    ("host", ("n", "AE", "no-such-host.invalid", 104), "does not resolve"),
])
def test_invalid_fields_are_explained(field, args, fragment):
    errors, _ = validate_node(*args)
    assert fragment in errors[field]


def test_lower_case_and_padding_warn_but_do_not_block():
    errors, warnings = validate_node("n", "orthanc", "127.0.0.1", 4243)
    assert not errors and "case-sensitively" in warnings["ae_title"]
    errors, warnings = validate_node("n", "ORTHANC ", "127.0.0.1", 4243)
    assert not errors and "spaces" in warnings["ae_title"]


def test_duplicate_names_are_refused():
    errors, _ = validate_node("CT 1", "CT", "127.0.0.1", 104, taken_names={"CT 1"})
    assert "already" in errors["name"]


def test_own_json_round_trips_every_field():
    text = export_nodes(NODES, "json")
    assert detect_format(text) == "json"
    assert import_nodes(text) == NODES


def test_csv_round_trips_every_field():
    text = export_nodes(NODES, "csv")
    assert detect_format(text, "book.csv") == "csv"
    assert import_nodes(text) == NODES


def test_csv_with_other_column_names_and_bad_port():
    nodes = import_nodes("AET,IP,Port\nMR_1,127.0.0.5,11120\n", "csv")
    assert nodes[0].ae_title == "MR_1" and nodes[0].name == "MR_1" and nodes[0].port == 11120
    with pytest.raises(AddressBookError, match="Line 2"):
        import_nodes("ae_title,host,port\nX,h,abc\n", "csv")
    with pytest.raises(AddressBookError, match="columns"):
        import_nodes("foo,bar\n1,2\n", "csv")


def test_orthanc_modalities_both_styles_with_comments():
    text = """{
      // Orthanc configuration excerpt
      "DicomModalities" : {
        "ct1" : [ "CT_SOMATOM", "10.1.1.20", 104 ],
        "ws" : { "AET" : "WS01", "Host" : "10.1.1.30", "Port" : 11120, "Manufacturer" : "Generic" }
      } /* trailing block comment */
    }"""
    assert detect_format(text) == "orthanc"
    nodes = {n.name: n for n in import_nodes(text)}
    assert (nodes["ct1"].ae_title, nodes["ct1"].host, nodes["ct1"].port) == ("CT_SOMATOM", "10.1.1.20", 104)
    assert nodes["ws"].port == 11120 and "Generic" in nodes["ws"].notes
    again = import_nodes(export_nodes(NODES, "orthanc"))
    assert [(n.ae_title, n.host, n.port) for n in again] == [(n.ae_title, n.host, n.port) for n in NODES]


def test_dcmqrscp_host_table_with_groups_and_comments():
    text = """# dcmqrscp.cfg
NetworkTCPPort = 104
HostTable BEGIN
acme1 = (ACME1, acme1.example.org, 5678)   # first
acme2 = (ACME2, 10.0.0.2, 104)
acmeCTcompany = acme1, acme2
HostTable END
VendorTable BEGIN
"Acme CT" = acmeCTcompany
VendorTable END
"""
    assert detect_format(text, "dcmqrscp.cfg") == "dcmtk"
    nodes = import_nodes(text)
    assert [(n.name, n.ae_title, n.host, n.port) for n in nodes] == [
        ("acme1", "ACME1", "acme1.example.org", 5678), ("acme2", "ACME2", "10.0.0.2", 104)]
    again = import_nodes(export_nodes(NODES, "dcmtk"))
    assert [(n.ae_title, n.host, n.port) for n in again] == [(n.ae_title, n.host, n.port) for n in NODES]
    with pytest.raises(AddressBookError, match="Line 2"):
        import_nodes("HostTable BEGIN\nbroken line (\nHostTable END\n", "dcmtk")


def test_foreign_json_is_refused_clearly():
    with pytest.raises(AddressBookError, match="not a PACS Console address book"):
        import_nodes('{"nodes": []}', "json")
    with pytest.raises(AddressBookError, match="line 1"):
        import_nodes("{broken", "json")


def test_node_crud_duplicate_and_capabilities(tmp_path):
    db = Database(tmp_path / "x.sqlite3")
    try:
        node = save_node(db, "PACS", "PACS", "127.0.0.1", 104, tls=True, tls_ca_file="/ca.pem")
        assert get_node(db, "PACS").tls and get_node(db, node.id).tls_ca_file == "/ca.pem"
        assert get_node(db, "PACS").label == "PACS@127.0.0.1:104"
        copy = duplicate_node(db, node.id)
        assert copy.name == "PACS (copy)" and copy.tls and copy.id != node.id
        assert duplicate_node(db, node.id).name == "PACS (copy 2)"
        renamed = update_node(db, copy.id, name="PACS backup", port=11120)
        assert renamed.port == 11120 and get_node(db, "PACS backup")
        set_capabilities(db, node.id, {"accepted": {"1.2.840.10008.1.1": ["1.2.840.10008.1.2"]}})
        assert get_node(db, node.id).capabilities["accepted"]
        delete_node(db, renamed.id)
        assert {n.name for n in list_nodes(db)} == {"PACS", "PACS (copy 2)"}
        with pytest.raises(ValueError):
            update_node(db, node.id, is_demo=True)
    finally:
        db.close()
