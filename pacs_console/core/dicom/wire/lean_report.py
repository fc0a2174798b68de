"""The association report of a lean association (``ul.LeanAssociation.report``): the same
shape as ``association.association_report`` gives for pynetdicom's, from what the
A-ASSOCIATE-AC said. Loaded only by a command that reports (never at start-up)."""

from __future__ import annotations

from pacs_console.core.dicom.diagnosis.fingerprint import fingerprint
from pacs_console.core.dicom.wire.params import IMPLEMENTATION_VERSION, uid_name


def report(assoc, timing: dict | None = None) -> dict:
    target = assoc.target
    report = {
        "peer": {"ae_title": target.called_ae.strip(), "address": target.host,
                 "port": target.port, "max_pdu": assoc.peer_max_pdu,
                 "implementation_class_uid": assoc.implementation_class_uid,
                 "implementation_version_name": assoc.implementation_version_name,
                 "async_ops_window": {"invoked": assoc.async_window[0],
                                      "performed": assoc.async_window[1]},
                 "user_identity_response": None},
        "local": {"ae_title": target.calling_ae.strip(), "max_pdu": assoc.own_max_pdu,
                  "implementation_version_name": IMPLEMENTATION_VERSION},
        "fingerprint": fingerprint(assoc.implementation_class_uid,
                                   assoc.implementation_version_name,
                                   called_ae=target.called_ae, port=target.port),
        "accepted": [{"abstract_syntax": cx.abstract_syntax, "name": uid_name(cx.abstract_syntax),
                      "transfer_syntax": cx.transfer_syntax,
                      "transfer_syntax_name": uid_name(cx.transfer_syntax), "role": "SCU"}
                     for cx in assoc.accepted],
        "rejected": [{**cx, "name": uid_name(cx["abstract_syntax"])} for cx in assoc.rejected],
    }
    if timing:
        report["timing"] = {k: round(v, 3) for k, v in timing.items() if isinstance(v, float)}
    return report
