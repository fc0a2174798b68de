"""A finding becomes an incident (category security) in one step; the helpdesk sync then
carries it like any other incident. An open incident for the same finding is reused."""

from __future__ import annotations

from pacs_console.core.assess.catalog import CHECKS

# The incident scale has no "info": facts are not incidents.
_SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}


def title_for(finding: dict) -> str:
    check = CHECKS.get(str(finding.get("check")))
    what = check.title if check else str(finding.get("check"))
    return f"Security: {what} on {finding['host']}:{finding['port']}"[:200]


def to_incident(db, finding: dict, *, site: str | None = None, actor: str = "",
                assessed_at: str = ""):
    """``(IncidentRecord, created)``; ValueError for an info finding (nothing to fix)."""
    from pacs_console.core.incidents.queries import IncidentFilter, list_incidents
    from pacs_console.core.incidents.service import create_incident

    severity = _SEVERITY.get(str(finding.get("severity")))
    if severity is None:
        raise ValueError("an info finding is a noted fact, not an incident")
    title = title_for(finding)
    for record in list_incidents(db, IncidentFilter(open_only=True)):
        if record.title == title:
            return record, False
    description = (f"Found by the security assessment{' of ' + assessed_at[:19] if assessed_at else ''}"
                   f" (check {finding['check']}, severity {finding['severity']}).\n\n"
                   f"Evidence: {finding['evidence']}\n\nWhat to fix: {finding['remedy']}")
    record = create_incident(db, title=title, severity=severity, category="security",
                             description=description, site=site or None, reporter=actor,
                             actor=actor)
    return record, True
