"""An association summary in words, for the relay command, the trace command and the view."""

from __future__ import annotations


def describe(report: dict) -> str:
    """An association in a few lines for a person: who, how it ended, what passed, findings."""
    if report.get("protocol") == "hl7":
        head = (f"HL7 {report['client']} -> {report['server']}: {len(report['messages'])} "
                f"message(s), {report['result']}")
        lines = [head] + [f"  {m['from']} {m['type']} {m['control_id']}"
                          + (f" -> {m['answered_with']}" if m.get("answered_with") else "")
                          for m in report["messages"][:50]]
    else:
        counts: dict[str, list[int]] = {}
        for msg in report["messages"]:
            entry = counts.setdefault(msg["command"][:-3], [0, 0])
            entry[0] += 1
            entry[1] += msg.get("status") in ("0x0000",)
        done = ", ".join(f"{n} {c} ({ok} success)" for c, (n, ok) in counts.items()) or "no messages"
        size = sum(report["bytes"].values()) / 1e6
        lines = [f"{report['calling_ae'] or '?'} -> {report['called_ae'] or '?'} "
                 f"({report['client']} -> {report['server']}): {report['result']}; {done}; "
                 f"{size:.1f} MB in {report['duration_s']:.2f} s"
                 + (" [capture began mid-association]" if report.get("mid_association") else "")]
    for diagnosis in report["diagnosis"]:
        lines.append("  ! " + diagnosis["what"])
        if diagnosis["causes"]:
            lines.append("    Likely cause: " + "; ".join(diagnosis["causes"]))
        if diagnosis["actions"]:
            lines.append("    What to try: " + "; ".join(diagnosis["actions"]))
    return "\n".join(lines)


def timeline(report: dict) -> str:
    """Every event of an association, one line each."""
    return "\n".join(f"  {e['t']:9.4f} {e['from'] or '--':2} {e['kind']}: {e['text']}"
                     for e in report.get("timeline", []))
