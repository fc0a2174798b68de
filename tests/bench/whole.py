"""What a user waits for: each command line timed as a whole process (command to exit) against
the peer tool's whole process doing the same work, against the same peer in the same run.

DICOM: echoscu, findscu, storescu, movescu into storescp (DCMTK) against one Orthanc. Images: a
header-only pydicom loop, and a decode + window + PNG loop, each as its own process. Targets
are ratios (``ratio=True``): median console / median peer tool.
"""

from __future__ import annotations

import shutil
import sys

from tests.bench import peers_env as env
from tests.bench.runner import Case

ECHO_RUN = 21
FIND_STUDIES = 200
FIND_KEYS = ("PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
             "StudyTime", "AccessionNumber", "StudyID", "StudyDescription", "ModalitiesInStudy",
             "ReferringPhysicianName", "NumberOfStudyRelatedSeries",
             "NumberOfStudyRelatedInstances")


def _echoscu() -> float:
    return env.dcmtk("/usr/bin/echoscu", *env.dcmtk_target())


# -- C-ECHO ---------------------------------------------------------------------------------
def _echo_once() -> dict[str, float]:
    shown, saved = env.first_line(env.console("echo", *env.target_args()))
    return {"console_s": saved, "console_result_shown_s": shown,
            "console_no_save_s": env.timed(env.console("echo", "--no-save", *env.target_args())),
            "echoscu_s": _echoscu()}


def _echo_once_no_save() -> dict[str, float]:
    import time

    from pacs_console.core.dicom.ops.echo import echo_target
    from pacs_console.core.dicom.wire.target import Target

    peer = env.orthanc()
    start = time.perf_counter()  # beside, never the target: in this warm process, no start-up
    assert echo_target(Target(peer.host, peer.dicom_port, peer.aet, env.SCU)).ok
    in_process = time.perf_counter() - start
    return {"console_no_save_s": env.timed(env.console("echo", "--no-save", *env.target_args())),
            "in_process_echo_s": in_process, "echoscu_s": _echoscu(),
            # the floor any Python command pays here (interpreter and site), for scale
            "python_c_pass_s": env.timed([sys.executable, "-c", "pass"])}


def _echo_run() -> dict[str, float]:
    one = env.timed(env.console("echo", "--no-save", *env.target_args()))
    many = env.timed(env.console("echo", "--no-save", "--count", str(ECHO_RUN), "--interval", "0",
                                 *env.target_args()))
    return {"per_echo_s": (many - one) / (ECHO_RUN - 1), "whole_run_per_echo_s": many / ECHO_RUN,
            "echoscu_s": _echoscu()}


# -- C-FIND ---------------------------------------------------------------------------------
def _find_setup() -> None:
    from pacs_console.core.dicom.synth.studies import generate_study
    from tests.core.dicom_ops.helpers import part10

    peer = env.orthanc()
    peer.clear()
    for i in range(FIND_STUDIES):
        peer.upload(part10(generate_study("CR", images=1, series=1, size=16, seed=1000 + i)[0]))


def _find() -> dict[str, float]:
    keys = ["-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName=*"] + [
        arg for key in FIND_KEYS for arg in ("-k", key)]
    theirs = env.dcmtk("/usr/bin/findscu", "-S", *keys, *env.dcmtk_target())
    ours = env.timed(env.console("find", "--name", "*", *env.target_args()))
    no_save = env.timed(env.console("find", "--no-save", "--name", "*", *env.target_args()))
    return {"console_s": ours, "console_no_save_s": no_save, "findscu_s": theirs}


# -- C-STORE --------------------------------------------------------------------------------
STORE_ONE, STORE_MANY, PARALLEL = 100, 1000, 2


def _store_setup() -> None:
    env.orthanc()
    env.study("store100", "CT", STORE_ONE, 1, 512)


def _store_one() -> dict[str, float]:
    peer, folder = env.orthanc(), env.study("store100", "CT", STORE_ONE, 1, 512)
    peer.clear()
    theirs = env.dcmtk("/usr/bin/storescu", "+sd", *env.dcmtk_target(), str(folder))
    peer.clear()
    ours = env.timed(env.console("store", *env.target_args(), str(folder)))
    peer.clear()
    no_save = env.timed(env.console("store", "--no-save", *env.target_args(), str(folder)))
    return {"console_s": ours, "console_no_save_s": no_save, "storescu_s": theirs}


def _store_many_setup() -> None:
    env.orthanc()
    env.study("store1000", "CT", STORE_MANY, 4, 512, parts=PARALLEL)


def _store_many() -> dict[str, float]:
    import subprocess
    import time

    peer, folder = env.orthanc(), env.study("store1000", "CT", STORE_MANY, 4, 512, parts=PARALLEL)
    peer.clear()
    start = time.perf_counter()
    procs = [subprocess.Popen(["/usr/bin/storescu", "+sd", *env.dcmtk_target(), str(part)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env.DCMTK_ENV) for part in sorted(folder.iterdir())]
    codes = [p.wait() for p in procs]
    theirs = time.perf_counter() - start
    assert codes == [0] * PARALLEL, codes
    peer.clear()
    ours = env.timed(env.console("store", "--parallel", str(PARALLEL), *env.target_args(),
                                 str(folder)))
    return {"console_s": ours, f"storescu_x{PARALLEL}_s": theirs}


# -- C-MOVE ---------------------------------------------------------------------------------
MOVE_IMAGES = 200


def _move_setup() -> None:
    peer = env.orthanc()
    env.sink()
    peer.clear()
    folder = env.study("move200", "CT", MOVE_IMAGES, 1, 512)
    env.timed(env.console("store", "--no-save", *env.target_args(), str(folder)))


def _move() -> dict[str, float]:
    uid = env.study_uid(env.study("move200", "CT", MOVE_IMAGES, 1, 512))
    sink = env.sink()
    sink.clear()
    theirs = env.dcmtk("/usr/bin/movescu", "-S", "-aem", env.SINK_AET, "-k",
                       "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={uid}",
                       *env.dcmtk_target())
    assert len(sink.files()) == MOVE_IMAGES, len(sink.files())
    store = env.data_dir() / "data" / "store"
    shutil.rmtree(store, ignore_errors=True)
    ours = env.timed(env.console("move", "--study-uid", uid, "--scp-port",
                                 str(env.ports()["console_scp"]), *env.target_args()))
    got = sum(1 for p in store.rglob("*") if p.is_file())
    assert got == MOVE_IMAGES, got
    return {"console_s": ours, "movescu_s": theirs}


# -- index and thumbnails -----------------------------------------------------------------
HEADER_LOOP = """
import os, sys
import pydicom
n = 0
for dirpath, _, names in os.walk(sys.argv[1]):
    for name in sorted(names):
        ds = pydicom.dcmread(os.path.join(dirpath, name), stop_before_pixels=True)
        print(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
              ds.file_meta.TransferSyntaxUID)
        n += 1
print(n, "files")
"""

# Single-threaded: decode, rescale, default window, downscale to 128 px, PNG (Pillow).
THUMB_LOOP = """
import os, sys
import numpy as np
import pydicom
from PIL import Image
out = sys.argv[2]
for dirpath, _, names in os.walk(sys.argv[1]):
    for name in sorted(names):
        ds = pydicom.dcmread(os.path.join(dirpath, name))
        px = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1)) \\
            + float(getattr(ds, "RescaleIntercept", 0))
        c, w = ds.get("WindowCenter"), ds.get("WindowWidth")
        c = float(c[0] if isinstance(c, pydicom.multival.MultiValue) else c) if c is not None else float(px.mean())
        w = float(w[0] if isinstance(w, pydicom.multival.MultiValue) else w) if w is not None else float(np.ptp(px) or 1)
        img = np.clip((px - (c - w / 2)) / w * 255.0, 0, 255).astype(np.uint8)
        step = max(1, max(img.shape) // 128)
        Image.fromarray(np.ascontiguousarray(img[::step, ::step])).save(
            os.path.join(out, ds.SOPInstanceUID + ".png"))
"""


def _index_case(folder_of):
    def run() -> dict[str, float]:
        folder = folder_of()
        data = env.scratch("pacs-bench-idx-")
        ours, rss = env.timed(env.console("index", str(folder), data=data), rusage=True)
        shutil.rmtree(data, ignore_errors=True)
        theirs = env.timed([sys.executable, "-c", HEADER_LOOP, str(folder)])
        return {"console_s": ours, "console_peak_rss_mb": rss, "header_loop_s": theirs}
    return run


def _thumbs_case(folder_of):
    def run() -> dict[str, float]:
        folder = folder_of()
        data, out = env.scratch("pacs-bench-th-"), env.scratch("pacs-bench-png-")
        ours, rss = env.timed(env.console("index", str(folder), "--thumbnails", str(out),
                                          data=data), rusage=True)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        theirs = env.timed([sys.executable, "-c", THUMB_LOOP, str(folder), str(out)])
        shutil.rmtree(out, ignore_errors=True)
        return {"console_s": ours, "console_peak_rss_mb": rss, "decode_png_loop_s": theirs}
    return run


def _ct1000():
    return env.study("ct1000-256", "CT", 1000, 20, 256)


def _ct10000():
    return env.large_study(10_000, 5, 512)


def _index_cases(study: str, thumbs_study: str, folder_of, thumbs_limit: float) -> list[Case]:
    """Indexing one study, headers only and with thumbnails, against the pydicom loops."""
    return [
        Case(f"cli: index {study} / header-only pydicom loop", _index_case(folder_of),
             "console_s", 1.0, peer_metric="header_loop_s", peer_name="header loop", ratio=True,
             setup=folder_of),
        Case(f"cli: index --thumbnails {thumbs_study} / decode+window+PNG loop",
             _thumbs_case(folder_of), "console_s", thumbs_limit, peer_metric="decode_png_loop_s",
             peer_name="decode+PNG loop", ratio=True, setup=folder_of),
    ]


def cases() -> list[Case]:
    dimse = {"setup": env.orthanc, "teardown": env.stop_peers, "ratio": True}
    return [
        Case("cli: echo once, evidence saved (whole process) / echoscu", _echo_once, "console_s",
             3.0, peer_metric="echoscu_s", peer_name="echoscu", **dimse),
        Case("cli: echo once --no-save (whole process) / echoscu", _echo_once_no_save,
             "console_no_save_s", 3.0, peer_metric="echoscu_s", peer_name="echoscu", **dimse),
        Case(f"cli: echo --count {ECHO_RUN} --interval 0, per echo / an echoscu process",
             _echo_run, "per_echo_s", 0.5, peer_metric="echoscu_s", peer_name="echoscu", **dimse),
        Case(f"cli: find {FIND_STUDIES} studies (whole process) / findscu", _find, "console_s",
             1.2, peer_metric="findscu_s", peer_name="findscu",
             **{**dimse, "setup": _find_setup}),
        Case(f"cli: store {STORE_ONE} x 512² CT, one association / storescu", _store_one,
             "console_s", 1.0, peer_metric="storescu_s", peer_name="storescu",
             **{**dimse, "setup": _store_setup}),
        Case(f"cli: store {STORE_MANY} x 512² CT --parallel {PARALLEL} / {PARALLEL} storescu "
             "processes", _store_many, "console_s", 0.8, peer_metric=f"storescu_x{PARALLEL}_s",
             peer_name=f"{PARALLEL} x storescu", **{**dimse, "setup": _store_many_setup}),
        Case(f"cli: move {MOVE_IMAGES} x 512² CT into its own SCP / movescu into storescp",
             _move, "console_s", 1.0, peer_metric="movescu_s", peer_name="movescu+storescp",
             **{**dimse, "setup": _move_setup}),
        *_index_cases("1,000 x 256² CT (whole process)", "1,000 x 256² CT", _ct1000, 1.0),
        *_index_cases("10,000 x 512² CT in 5 series", "10,000 x 512² CT", _ct10000, 0.7),
        Case("cli: index --thumbnails 10,000 x 512² CT, peak memory",
             _thumbs_case(_ct10000), "console_peak_rss_mb", 1024.0, unit="MB", setup=_ct10000),
    ]
