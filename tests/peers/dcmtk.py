"""DCMTK peers for tests: dcmqrscp (Q/R archive), storescp (store sink), wlmscpfs (worklist)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.peers.process import PeerProcess, workdir_path

# Full paths: pynetdicom installs same-named console scripts that shadow DCMTK's on PATH.
DCMQRSCP = "/usr/bin/dcmqrscp"
STORESCP = "/usr/bin/storescp"
WLMSCPFS = "/usr/bin/wlmscpfs"
DUMP2DCM = "/usr/bin/dump2dcm"
WLIST_EXAMPLES = Path("/usr/share/doc/dcmtk/examples/wlistdb/OFFIS")


def _empty_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


class DcmqrscpPeer(PeerProcess):
    """dcmqrscp in its default fork mode (``--single-process`` crashes in DCMTK 3.6.7).

    Its storage SCP takes uncompressed transfer syntaxes only (DCMTK's ``+x=`` default).

    ``hosts`` maps AE title -> (host, port): the HostTable of peers it may C-MOVE to.
    """

    name = "dcmqrscp"

    def __init__(
        self,
        aet: str,
        host: str,
        port: int,
        hosts: dict[str, tuple[str, int]] | None = None,
    ):
        super().__init__(aet, host, port)
        self.hosts = dict(hosts or {})

    storage_dir = workdir_path("storage")

    def command(self) -> list[str]:
        assert self.workdir is not None
        self.storage_dir.mkdir(exist_ok=True)
        host_lines = "\n".join(f"{aet} = ({aet}, {h}, {p})" for aet, (h, p) in self.hosts.items())
        config = f"""\
NetworkTCPPort = {self.dicom_port}
MaxPDUSize = 131072
MaxAssociations = 16

HostTable BEGIN
{host_lines}
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
{self.aet} {self.storage_dir} RW (10000, 4096mb) ANY
AETable END
"""
        path = self.workdir / "dcmqrscp.cfg"
        path.write_text(config)
        # -dhl: no reverse DNS per association; it only slows loopback tests down.
        return [DCMQRSCP, "-c", str(path), "-dhl", str(self.dicom_port)]

    def clear(self) -> None:
        """Empty the archive: each forked child reopens index.dat, so deleting it is enough."""
        if not self.running:
            self.start()
        _empty_dir(self.storage_dir)

    def files(self) -> list[Path]:
        return sorted(
            p for p in self.storage_dir.rglob("*") if p.is_file() and p.name != "index.dat"
        )


class StorescpPeer(PeerProcess):
    """storescp writing what it receives into ``output_dir``: every transfer syntax by default,
    or (``accept_all=False``) DCMTK's default, uncompressed only (no deflate, nothing lossless)."""

    name = "storescp"

    def __init__(self, aet: str, host: str, port: int, *, accept_all: bool = True):
        super().__init__(aet, host, port)
        self.accept_all = accept_all

    output_dir = workdir_path("received")

    def command(self) -> list[str]:
        self.output_dir.mkdir(exist_ok=True)
        return [
            STORESCP,
            "--aetitle",
            self.aet,
            *(["--accept-all"] if self.accept_all else []),
            "-dhl",
            "--output-directory",
            str(self.output_dir),
            str(self.dicom_port),
        ]

    def clear(self) -> None:
        if not self.running:
            self.start()
        _empty_dir(self.output_dir)

    def files(self) -> list[Path]:
        return sorted(p for p in self.output_dir.rglob("*") if p.is_file())


class WlmscpfsPeer(PeerProcess):
    """wlmscpfs serving DCMTK's ten example worklist items (made from the .dump files)."""

    name = "wlmscpfs"

    def __init__(self, aet: str, host: str, port: int, *, extra_items: dict[str, str | bytes] | None = None):
        super().__init__(aet, host, port)
        # name -> dcmdump-format text of more worklist items (str is written as UTF-8, bytes
        # as they are), e.g. items without Specific Character Set
        self.extra_items = dict(extra_items or {})

    data_dir = workdir_path("wlistdb")

    def command(self) -> list[str]:
        # wlmscpfs looks in <data-files-path>/<called AE>/ for *.wl files and a lockfile.
        ae_dir = self.data_dir / self.aet
        ae_dir.mkdir(parents=True, exist_ok=True)
        (ae_dir / "lockfile").touch()
        dumps = sorted(WLIST_EXAMPLES.glob("*.dump"))
        for name, text in self.extra_items.items():
            extra = self.workdir / f"{name}.dump"
            extra.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
            dumps.append(extra)
        for dump in dumps:
            subprocess.run(
                [DUMP2DCM, str(dump), str(ae_dir / f"{dump.stem}.wl")],
                check=True,
                capture_output=True,
            )
        return [WLMSCPFS, "-dfp", str(self.data_dir), "-dhl", str(self.dicom_port)]

    def clear(self) -> None:
        """Worklist files are read-only test data: only make sure the peer is up."""
        if not self.running:
            self.start()
