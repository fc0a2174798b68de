"""Incidents: SLA clocks on business calendars, the incident log, evidence and the audit trail."""
