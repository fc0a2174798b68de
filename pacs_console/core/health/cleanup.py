"""Removing the test data the health plan's C-STORE left at a site.

What was stored is read from this site's saved health runs (each store check records the study,
series and instance UIDs it sent). A node whose plan gives Orthanc's REST API root
(``rest_url``) has each study looked up there and every instance's own tags read: an instance is
deleted only when the health check stored it (its SOP Instance UID is recorded) and it still
carries both tags the console gave it (the test study description and patient ID). Any other
instance is left alone and named: a study holding only such instances is refused, a mixed one
keeps them. A node without it gets the exact UIDs listed for its PACS administrator.
Each removal is kept as evidence (kind 'health-cleanup'), so a removed study is not listed again.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict, dataclass, field

from pacs_console.core.health.checks import TEST_DESCRIPTION, TEST_PATIENT_ID
from pacs_console.core.models import Progress

CLEANUP_KIND = "health-cleanup"
REMOVED, GONE, LISTED, REFUSED, FAILED = "removed", "already gone", "listed", "refused", "failed"
PARTLY = "removed, others kept"  # the test instances deleted; instances not the console's kept
DONE = (REMOVED, PARTLY, GONE)  # nothing of the console's own test data left
MAX_LOOKUP, MAX_INSTANCES = 10, 1000  # Orthanc studies per UID, instances per study read


@dataclass
class StoredStudy:
    node: str
    study_uid: str
    series_uid: str = ""
    instances: list[str] = field(default_factory=list)
    stored_at: str = ""
    result: str = ""  # removed, removed with others kept, already gone, listed, refused, failed
    text: str = ""
    kept: list[str] = field(default_factory=list)  # "SOP Instance UID: why" not deleted
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
            for item in run.metrics.get("items", ()) if item.get("result") in DONE}
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


def _own(tags: dict, study: StoredStudy) -> str:
    """'' when this instance is the console's own test data, else why it is not."""
    sop = str(tags.get("SOPInstanceUID", ""))
    if study.instances and sop not in study.instances:
        return "not an instance the health check stored"
    if tags.get("PatientID") != TEST_PATIENT_ID:
        return f"patient ID {tags.get('PatientID')!r}"
    if tags.get("StudyDescription") != TEST_DESCRIPTION:
        return f"study description {tags.get('StudyDescription')!r}"
    return ""


def _sort_instances(client, base: str, study: StoredStudy) -> tuple[list[str], dict[str, str]]:
    """The Orthanc IDs of the study's instances that are the console's test data, and the SOP
    Instance UIDs of the others with why they are not: every instance's own tags are read."""
    found = client.post(base + "/tools/lookup", content=study.study_uid,
                        headers={"Content-Type": "text/plain"})
    found.raise_for_status()
    ids = [f.get("ID") for f in found.json()[:MAX_LOOKUP]
           if isinstance(f, dict) and f.get("Type") == "Study" and f.get("ID")]
    own: list[str] = []
    foreign: dict[str, str] = {}
    for study_id in ids:  # one per patient ID the study UID was stored under
        answer = client.get(f"{base}/studies/{study_id}/instances")
        answer.raise_for_status()
        for instance in answer.json()[:MAX_INSTANCES]:
            tags = client.get(f"{base}/instances/{instance['ID']}/simplified-tags")
            tags.raise_for_status()
            values = tags.json()
            why = _own(values, study)
            if why:
                foreign[str(values.get("SOPInstanceUID", instance["ID"]))] = why
            else:
                own.append(instance["ID"])
    return own, foreign


def _remove_via_rest(study: StoredStudy, endpoint) -> None:
    """Read every instance of the study in Orthanc, delete those that are the console's own
    test data (stored by the health check, both test tags still on them), keep any other and
    say so; the outcome into ``study``."""
    import httpx

    from pacs_console.core.dicomweb.diagnose import diagnose_transport

    try:
        with endpoint.client() as client:
            own, foreign = _sort_instances(client, endpoint.base, study)
            if not own and not foreign:
                study.result, study.text = GONE, "not on the PACS any more"
                return
            study.kept = [f"{uid}: {why}" for uid, why in sorted(foreign.items())][:20]
            if not own:
                study.result = REFUSED
                study.text = (f"none of its {len(foreign)} instance(s) on the PACS is the "
                              "console's test data (" + _reasons(foreign) + "): left alone")
                return
            for instance_id in own:
                client.delete(f"{endpoint.base}/instances/{instance_id}").raise_for_status()
            study.result = REMOVED if not foreign else PARTLY
            study.text = f"{len(own)} test instance(s) deleted through Orthanc REST"
            if foreign:
                study.text += (f"; {len(foreign)} instance(s) in the study are not the console's "
                               "test data and were kept (" + _reasons(foreign) + ")")
    except httpx.HTTPStatusError as exc:
        study.result = FAILED
        study.text = (f"Orthanc REST answered HTTP {exc.response.status_code} to "
                      f"{exc.request.method} {exc.request.url.path}")
    except httpx.HTTPError as exc:
        diagnosis = diagnose_transport(exc, endpoint.base, endpoint.connect_timeout,
                                       ca_file=endpoint.ca_file)
        study.result, study.text = FAILED, f"Orthanc REST: {diagnosis.what}"
        study.diagnosis = diagnosis.to_dict()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not Orthanc's REST API
        study.result, study.text = FAILED, f"not Orthanc's REST API at {endpoint.base} ({exc!r})"[:300]


def _reasons(foreign: dict[str, str]) -> str:
    return "; ".join(sorted(set(foreign.values()))[:3])


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

    removed = sum(1 for s in studies if s.result in DONE)
    run = save_test_run(db, kind=CLEANUP_KIND, node_label=site_label(site),
                        outcome="ok" if removed == len(studies) else "warning",
                        parameters={"site": site},
                        summary=f"Health test data of {site}: {removed} of {len(studies)} "
                                "test studies removed",
                        metrics={"items": [s.to_dict() for s in studies]})
    return run.uuid
