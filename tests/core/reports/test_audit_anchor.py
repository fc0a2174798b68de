"""The audit chain's head travels in every signed report: a chain rewritten after a report was
handed over no longer matches it, even when the head file was rewritten too."""

from __future__ import annotations

from pacs_console.core.incidents import audit
from pacs_console.core.reports.gather import gather
from pacs_console.core.reports.store import build_report, handed_over_heads
from pacs_console.core.reports.verify import attached_json
from tests.core.incidents.test_audit import _forge


def test_a_rewritten_chain_no_longer_matches_the_signed_report(ctx, visit, passphrase_env):
    steps = build_report(lambda: gather(ctx.db, ctx.settings, visit.id, data_dir=ctx.paths.data),
                         ctx.paths.data, ctx.secrets, engineer=ctx.settings.profile.name,
                         organisation=ctx.settings.profile.organisation)
    for _ in steps:
        pass
    heads = handed_over_heads(ctx.paths.data)
    assert len(heads) == 1 and heads[0][1] == audit.head(ctx.db)
    report = audit.verify(ctx.db, heads)
    assert report.ok, report.problems
    assert any(a.startswith("signed report") for a in report.anchors)
    _forge(ctx.db, 2, "mallory")  # an entry edited, every hash recomputed, head file rewritten
    kinds = {p.kind for p in audit.verify(ctx.db, handed_over_heads(ctx.paths.data)).problems}
    assert "handed-over-mismatch" in kinds
    (pdf,) = ctx.paths.data.joinpath("reports").glob("*.pdf")
    assert attached_json(pdf)["audit_head"]["id"] == heads[0][1]["id"]
