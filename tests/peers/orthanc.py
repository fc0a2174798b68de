"""Orthanc as a real test peer: own temp dir and JSON config, one loopback address, REST helpers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.peers.process import PeerProcess

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def _modality(aet: str, host: str, port: int) -> dict:
    return {
        "AET": aet,
        "Host": host,
        "Port": port,
        "AllowEcho": True,
        "AllowFind": True,
        "AllowMove": True,
        "AllowGet": True,
        "AllowStore": True,
    }


class OrthancPeer(PeerProcess):
    """An Orthanc child process; ``modalities`` maps AE title -> (host, port)."""

    name = "orthanc"

    def __init__(
        self,
        aet: str,
        host: str,
        dicom_port: int,
        http_port: int,
        modalities: dict[str, tuple[str, int]] | None = None,
        accepted_syntaxes: list[str] | None = None,
    ):
        super().__init__(aet, host, dicom_port)
        self.http_port = http_port
        # Orthanc >= 1.9 "AcceptedTransferSyntaxes": the C-STORE SCP's syntaxes (None: all).
        self.accepted_syntaxes = accepted_syntaxes
        # name -> (AE, host, port); runtime additions land here too so a restart keeps them.
        self.modalities = {aet: (aet, h, p) for aet, (h, p) in (modalities or {}).items()}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def extra_ports(self) -> list[int]:
        return [self.http_port]

    def command(self) -> list[str]:
        assert self.workdir is not None
        config = {
            "Name": f"pacs-test-{self.aet}",
            "StorageDirectory": str(self.workdir / "storage"),
            "IndexDirectory": str(self.workdir / "index"),
            "DicomAet": self.aet,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True,
            "DicomModalities": {name: _modality(*entry) for name, entry in self.modalities.items()},
            "SynchronousCMove": True,
            "DicomAssociationCloseDelay": 0,
            # Ghanaian names need ɛ and ɔ: Latin-1 (the default) cannot hold them in C-FIND answers.
            "DefaultEncoding": "Utf8",
            # Jobs are throw-away in tests; persisting them only slows start-up and clear().
            "SaveJobs": False,
            "StableAge": 1,
            # Serve every read from disk: archive-integrity tests corrupt files behind
            # Orthanc's back, and an in-memory copy (128 MB cache by default) would hide it.
            "MaximumStorageCacheSize": 0,
            "Plugins": [str(DICOMWEB_PLUGIN)] if DICOMWEB_PLUGIN.exists() else [],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        if self.accepted_syntaxes is not None:
            config["AcceptedTransferSyntaxes"] = list(self.accepted_syntaxes)
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(config, indent=2))
        return [ORTHANC, str(path)]

    # --- REST -------------------------------------------------------------------------------

    def rest(
        self,
        method: str,
        path: str,
        body: bytes | dict | list | None = None,
        content_type: str = "application/json",
    ):
        """Call Orthanc's REST API; returns parsed JSON (or None for an empty body)."""
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"Orthanc {method} {path} -> HTTP {exc.code}: {detail}") from exc
        return json.loads(raw) if raw.strip() else None

    def clear(self) -> None:
        """Delete every patient so the next test starts from an empty archive."""
        if not self.running:
            self.start()
        for patient in self.rest("GET", "/patients"):
            self.rest("DELETE", f"/patients/{patient}")

    def upload(self, data: bytes | str | Path) -> dict:
        """Store one DICOM Part-10 file (bytes or path) via POST /instances."""
        if not isinstance(data, bytes):
            data = Path(data).read_bytes()
        return self.rest("POST", "/instances", data, content_type="application/dicom")

    def corrupt_one_instance(self, sop_instance_uid: str | None = None) -> str:
        """Flip pixel bytes of one stored file (the given instance, else any) in the storage
        folder, behind Orthanc's back (an archive's silent disk corruption); returns that
        instance's SOP Instance UID."""
        if sop_instance_uid:
            found = self.rest("POST", "/tools/lookup", sop_instance_uid.encode(),
                              content_type="text/plain")
            instance = next(f["ID"] for f in found if f["Type"] == "Instance")
        else:
            instance = self.rest("GET", "/instances")[0]
        sop = self.rest("GET", f"/instances/{instance}/simplified-tags")["SOPInstanceUID"]
        uuid = self.rest("GET", f"/instances/{instance}/attachments/dicom/info")["Uuid"]
        path = next((self.workdir / "storage").rglob(uuid))
        data = bytearray(path.read_bytes())
        for offset in range(len(data) - 200, len(data) - 100):
            data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        return sop

    def add_modality(self, name: str, aet: str, host: str, port: int) -> None:
        """Declare a modality at runtime (kept in memory only; gone after a restart)."""
        self.rest("PUT", f"/modalities/{name}", _modality(aet, host, port))
        self.modalities[name] = (aet, host, port)
