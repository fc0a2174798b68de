"""An archive that will not list a study's instances (its image-level C-FIND fails) and loses
one of them: the spot-check cannot name what is missing, so it counts what never arrived
against the study level's count. A real Orthanc whose Lua filter refuses image-level queries,
as some archives answer only down to the series level."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.core.assess.peers import ConfiguredOrthanc
from tests.core.dicom_ops.helpers import part10
from tests.core.health.archive_helpers import nodes, remove_behind_its_back, studies
from tests.peers.net import addr, free_ports
from tests.peers.plugin import KNOWN_PEERS

pytestmark = pytest.mark.peers

NO_IMAGE_LEVEL = """
function IncomingFindRequestFilter(query, origin)
  if query['0008,0052'] == 'IMAGE' then
    error('image-level queries are not answered here')
  end
  return query
end
"""


@pytest.fixture
def series_level_orthanc(tmp_path):
    script = tmp_path / "no-image-level.lua"
    script.write_text(NO_IMAGE_LEVEL)
    host = addr(23)
    dicom, http = free_ports(host, 2)
    peer = ConfiguredOrthanc("SERIESONLY", host, dicom, http, {"LuaScripts": [str(script)]},
                             modalities=KNOWN_PEERS)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


def test_instances_that_never_arrived_are_counted_when_the_archive_cannot_list_them(
        data_dir, series_level_orthanc):
    orthanc = series_level_orthanc
    study = studies()[0]
    for ds in study:
        orthanc.upload(part10(ds))
    gone = str(study[1].SOPInstanceUID)  # its file removed behind Orthanc's back
    remove_behind_its_back(orthanc, gone)
    nodes(data_dir, ("Series only", orthanc))
    proc = run_cli("archive", "check", "Series only", "--sample", "1", "--json",
                   data_dir=data_dir, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # every sampled study failed
    (check,) = json.loads(proc.stdout)["checks"]
    assert check["result"] == "fail", check
    assert any(p.startswith("image-level C-FIND failed") for p in check["problems"]), check
    assert check["missing"] == [] and check["received"] < len(study), check
    assert check["short"] == len(study) - check["received"], check
    text = run_cli("archive", "check", "Series only", "--sample", "1", data_dir=data_dir,
                   timeout=300).stdout
    assert f"{check['short']} never arrived" in text, text
