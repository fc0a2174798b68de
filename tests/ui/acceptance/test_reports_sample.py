"""The Reports panel's sample visit, used as a trainee would: preview it, zoom the page, verify
the unsigned preview, then sign the sample, which signs as a sample and never makes the
engineer's certificate. (Replaces the panel half of tests/ui/test_reports_panel.py; a real visit
signed and verified is test_records_reports.)"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QScrollArea

from pacs_console.core.reports.certs import p12_path
from pacs_console.core.reports.verify import verify_file
from tests.ui.acceptance.dialogs import choose_file

SAMPLE = "Sample visit (template preview and training)"


def _status(panel) -> str:
    return "\n".join(w.text() for w in panel.findChildren(QLabel) if w.isVisible())


def test_preview_zoom_and_verify_the_sample_then_sign_it_as_a_sample(console):
    panel = console.choose_nav("Reports")
    visits = next(c for c in panel.findChildren(QComboBox) if c.isVisible())
    console.wait_for(lambda: visits.findText(SAMPLE) >= 0, 10, "the sample visit offered")
    if console.text(visits) != SAMPLE:
        console.choose_combo(visits, SAMPLE)
    console.click_button("Preview", panel)
    console.wait_for(lambda: any(w.objectName() == "preview-page-1" and w.isVisible()
                                 for w in panel.findChildren(QLabel)), 60, "the first page",
                     observe=lambda: (_status(panel), [w.objectName() for w in panel.findChildren(QLabel) if w.objectName().startswith("preview")]))
    page = console.find(QLabel, "preview-page-1", panel)
    scroll = next(s for s in panel.findChildren(QScrollArea) if s.isAncestorOf(page))

    def fits() -> bool:  # the page fills the preview's width
        return scroll.viewport().width() - 40 <= page.pixmap().width() <= scroll.viewport().width()

    assert fits(), (page.pixmap().width(), scroll.viewport().width())
    fitted = page.pixmap().width()
    console.click(console.find(name="preview-zoom-in", parent=panel))
    console.wait_for(lambda: page.pixmap().width() > fitted, 10, "a larger page")
    assert console.text(console.find(name="preview-zoom", parent=panel)).endswith("%")
    console.click_button("Fit width", panel)
    console.wait_for(fits, 10, "fitted again",
                     observe=lambda: (page.pixmap().width(), scroll.viewport().width()))
    # The label says the scale the page is shown at, not the button's words a second time.
    assert console.text(console.find(name="preview-zoom", parent=panel)).endswith("%")

    console.wait_for(lambda: "preview (unsigned)" in _status(panel), 30, "the preview done")
    # The preview's file is a temporary one; "Open folder" would show it to a person.
    preview = panel.last_pdf
    with console.dialogs(choose_file(preview)) as seen:
        console.click_button("Verify a PDF…", panel)
    assert seen[0].title == "Verify a signed report"
    console.wait_for(lambda: "UNSIGNED" in _status(panel), 30, "the preview named unsigned",
                     observe=lambda: _status(panel))

    console.click_button("Generate and sign", panel)
    console.wait_for(lambda: "signed.pdf" in _status(panel), 90, "the signed sample",
                     observe=lambda: _status(panel))
    console.wait_for(lambda: console.button("Generate and sign", panel).isEnabled(), 30, "idle")
    result = verify_file(panel.last_pdf).to_dict()
    assert result["state"] == "sample" and result["sample"] is True and result["intact"]
    assert result["signatures"][0]["signer"].startswith("SAMPLE - not a real signature")
    assert not p12_path(console.ctx.paths.data).exists()
    table = console.find(name="reports-table", parent=panel)
    assert console.rows(table) == []  # previews and the sample are not kept as reports
