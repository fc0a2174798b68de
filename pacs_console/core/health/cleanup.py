"""Removing the test data the health plan's C-STORE left at a site.

What was stored is read from this site's saved health runs (each store check records the study,
series and instance UIDs it sent). A node whose plan gives Orthanc's REST API root
(``rest_url``) has each study looked up and deleted there, but only when the study still carries
both tags the console gave it (the test study description and patient ID): anything else is
refused and left alone. A node without it gets the exact UIDs listed for its PACS administrator.
Each removal is kept as evidence (kind 'health-cleanup'), so a removed study is not listed again.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict, dataclass, field

from pacs_console.core.health.checks import TEST_DESCRIPTION, TEST_PATIENT_ID
from pacs_console.core.models import Progress

CLEANUP_KIND = "health-cleanup"
REMOVED, GONE, LISTED, REFUSED, FAILED = "removed", "already gone", "listed", "refused", "failed"


@dataclass
class StoredStudy:
    node: str
    study_uid: str
    series_uid: str = ""
    instances: list[str] = field(default_factory=list)
    stored_at: str = ""
    result: str = ""  # removed, already gone, listed, refused, failed
    text: str = ""
    diagnosis: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def stored_test_data(db, site: str) -> list[StoredStudy]:
    """Every test study the health runs of ``site`` stored and no cleanup removed yet."""
    from pacs_console.core.db.testruns import list_test_runs
    from pacs_console.core.health.runner import EVIDENCE_KIND, site_label

    label = site_label(site)
    done = {(item["node"], item["study_uid"])
            for run in list_test_runs(db, kind=CLEANUP_KIND, limit=1000)
            if run.node_label == label
            for item in run.metrics.get("items", ()) if item.get("result") in (REMOVED, GONE)}
    found: dict[tuple[str, str], StoredStudy] = {}
    for run in list_test_runs(db, kind=EVIDENCE_KIND, limit=5000):
        if run.node_label != label:
            continue
        for check in run.metrics.get("checks", ()):
            metrics = check.get("metrics") or {}
            uid = metrics.get("study_uid")
            if check.get("check") != "store" or not uid or not metrics.get("sent"):
                continue
            key = (str(check.get("node", "")), str(uid))
            if key not in done and key not in found:
                found[key] = StoredStudy(key[0], key[1], str(metrics.get("series_uid", "")),
                                       [str(u) for u in metrics.get("instances", ())],
                                       run.started_at.isoformat() if run.started_at else "")
    return sorted(found.values(), key=lambda s: (s.node, s.stored_at))


def _remove_via_rest(study: StoredStudy, endpoint) -> None:
    """Look the study up in Orthanc, check both tags, delete it; the outcome into ``study``."""
    import httpx

    from pacs_console.core.dicomweb.diagnose import diagnose_transport

    try:
        with endpoint.client() as client:
            found = client.post(endpoint.base + "/tools/lookup", content=study.study_uid,
                                headers={"Content-Type": "text/plain"})
            found.raise_for_status()
            ids = [f.get("ID") for f in found.json()[:10]
                   if isinstance(f, dict) and f.get("Type") == "Study"]
            if not ids:
                study.result, study.text = GONE, "not on the PACS any more"
                return
            answer = client.get(f"{endpoint.base}/studies/{ids[0]}")
            answer.raise_for_status()
            info = answer.json()
            tags = info.get("MainDicomTags") or {}
            patient = info.get("PatientMainDicomTags") or {}
            if (tags.get("StudyDescription") != TEST_DESCRIPTION
                    or patient.get("PatientID") != TEST_PATIENT_ID):
                study.result = REFUSED
                study.text = ("the study on the PACS no longer carries the console's test tags "
                              f"(description {tags.get('StudyDescription')!r}, patient ID "
                              f"{patient.get('PatientID')!r}): left alone")
                return
            client.delete(f"{endpoint.base}/studies/{ids[0]}").raise_for_status()
            study.result, study.text = REMOVED, f"deleted through Orthanc REST ({ids[0]})"
    except httpx.HTTPStatusError as exc:
        study.result = FAILED
        study.text = (f"Orthanc REST answered HTTP {exc.response.status_code} to "
                      f"{exc.request.method} {exc.request.url.path}")
    except httpx.HTTPError as exc:
        diagnosis = diagnose_transport(exc, endpoint.base, endpoint.connect_timeout,
                                       ca_file=endpoint.ca_file)
        study.result, study.text = FAILED, f"Orthanc REST: {diagnosis.what}"
        study.diagnosis = diagnosis.to_dict()
    except ValueError as exc:  # not JSON: not Orthanc's REST API
        study.result, study.text = FAILED, f"not Orthanc's REST API at {endpoint.base} ({exc})"


def remove_test_data(db, settings, plan, *, secrets=None, save: bool = True
                     ) -> Generator[Progress, None, list[StoredStudy]]:
    """Remove (or list) every test study the site's health runs stored; the outcome per study."""
    from pacs_console.core.dicomweb.auth import Credentials, load_credentials
    from pacs_console.core.dicomweb.client import Endpoint

    studies = stored_test_data(db, plan.site)
    rest = {n.node: n.rest_url for n in plan.nodes}
    for n, study in enumerate(studies):
        yield Progress(n, len(studies), f"{study.node}: test study {study.study_uid}")
        url = rest.get(study.node, "")
        if not url:
            study.result = LISTED
            study.text = ("no REST API in the plan (rest_url): the PACS administrator deletes "
                          "this study (patient ID " + TEST_PATIENT_ID + ")")
            continue
        creds = load_credentials(secrets, url) if secrets is not None else Credentials()
        timeouts = settings.timeouts()
        _remove_via_rest(study, Endpoint(url, creds, timeouts.connect, timeouts.dimse))
    yield Progress(len(studies), len(studies), "Test data handled")
    if save and studies:
        save_cleanup(db, plan.site, studies)
    return studies


def save_cleanup(db, site: str, studies: list[StoredStudy]) -> str:
    from pacs_console.core.db.testruns import save_test_run
    from pacs_console.core.health.runner import site_label

    removed = sum(1 for s in studies if s.result in (REMOVED, GONE))
    run = save_test_run(db, kind=CLEANUP_KIND, node_label=site_label(site),
                        outcome="ok" if removed == len(studies) else "warning",
                        parameters={"site": site},
                        summary=f"Health test data of {site}: {removed} of {len(studies)} "
                                "test studies removed",
                        metrics={"items": [s.to_dict() for s in studies]})
    return run.uuid
