"""Settings: validation messages, atomic save, migrations from older schema versions."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.context import Context
from pacs_console.core.profile import Profile
from pacs_console.core.settings import (
    SCHEMA_VERSION,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
    updated,
)


@pytest.mark.parametrize("title, fragment", [
    ("", "empty"), ("    ", "all spaces"), ("A" * 17, "17 characters"), ("BAD\\AE", "backslash"),
    ("BAD\x07AE", "control"), ("KƆFI", "non-ASCII"),
])
def test_invalid_ae_titles_are_explained(title, fragment):
    errors = Settings(ae_title=title).errors()
    assert fragment in errors["ae_title"]


def test_valid_settings_have_no_errors_and_warn_on_lower_case():
    assert Settings().errors() == {}
    assert Settings(ae_title="ABCDEFGHIJKLMNOP").errors() == {}
    assert "case" in Settings(ae_title="pacsconsole").warnings()["ae_title"]


@pytest.mark.parametrize("field, value", [("scp_port", -1), ("scp_port", 70000),
                                          ("connect_timeout", 0.0), ("scan_rate", 0)])
def test_out_of_range_numbers_are_refused(field, value):
    assert field in Settings(**{field: value}).errors()


def test_storage_scp_port_0_means_any_free_port_and_says_so():
    settings = Settings(scp_port=0)
    assert settings.errors() == {}
    assert "status bar shows" in settings.warnings()["scp_port"]


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "settings.json"
    original = Settings(profile=Profile(name="Kɔfi Owusu", organisation="Accra Imaging",
                                        email="kofi@example.org"), engineer_id="ENG-7",
                        ae_title="LAPTOP01", scp_port=11200, dimse_timeout=12.5)
    save_settings(path, original)
    assert load_settings(path) == original
    assert json.loads(path.read_text("utf-8"))["schema_version"] == SCHEMA_VERSION


def test_the_profile_keeps_the_flat_keys_every_earlier_console_wrote(tmp_path):
    """A version-2 file from before Settings held a Profile loads into it, and saving writes the
    same keys back, so an older console on the same data folder still reads its engineer."""
    path = tmp_path / "settings.json"
    written = {"schema_version": 2, "engineer_name": "Ama Danso", "engineer_id": "ENG-3",
               "organisation": "Korle Bu IT", "engineer_role": "Field engineer",
               "engineer_email": "ama@example.org", "engineer_phone": "+233 20 000 0000",
               "organisation_logo": "", "ae_title": "LAPTOP02"}
    path.write_text(json.dumps(written), "utf-8")
    settings = load_settings(path)
    assert settings.profile == Profile(name="Ama Danso", organisation="Korle Bu IT",
                                       role="Field engineer", email="ama@example.org",
                                       phone="+233 20 000 0000")
    assert settings.engineer_id == "ENG-3" and settings.ae_title == "LAPTOP02"
    save_settings(path, settings)
    saved = json.loads(path.read_text("utf-8"))
    assert {key: saved[key] for key in written} == written
    assert "profile" not in saved


def test_save_refuses_invalid_settings_and_leaves_file_untouched(tmp_path):
    path = tmp_path / "settings.json"
    save_settings(path, Settings(ae_title="GOOD"))
    with pytest.raises(SettingsError, match="ae_title"):
        save_settings(path, Settings(ae_title=""))
    assert load_settings(path).ae_title == "GOOD"


def test_version_1_file_is_migrated_and_backed_up(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "aet": "OLDLAPTOP", "timeout": 20,
                                "engineer_name": "Ama Danso"}), "utf-8")
    settings = load_settings(path)
    assert settings.ae_title == "OLDLAPTOP"
    assert (settings.connect_timeout, settings.acse_timeout, settings.dimse_timeout,
            settings.network_timeout) == (10.0, 20.0, 20.0, 60.0)
    assert settings.profile == Profile(name="Ama Danso")
    assert json.loads(path.read_text("utf-8"))["schema_version"] == SCHEMA_VERSION
    assert json.loads((tmp_path / "settings.v1.bak").read_text("utf-8"))["aet"] == "OLDLAPTOP"


def test_file_without_version_is_treated_as_version_1(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"timeout": 5}), "utf-8")
    assert load_settings(path).acse_timeout == 5.0


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}), "utf-8")
    with pytest.raises(SettingsError, match="newer PACS Console"):
        load_settings(path)


def test_corrupt_file_runs_on_defaults_and_says_so(paths):
    paths.settings_file.write_text("{not json", "utf-8")
    ctx = Context.open(paths)
    try:
        assert ctx.settings == Settings()
        assert "Cannot read settings file" in ctx.settings_problem
        assert paths.settings_file.read_text("utf-8") == "{not json"  # kept for inspection
    finally:
        ctx.close()


def test_updated_returns_a_new_object():
    base = Settings()
    assert updated(base, scp_port=104).scp_port == 104 and base.scp_port != 104
