"""First start: what a person sees when the console opens on a fresh data folder with --demo."""

from __future__ import annotations

from tests.ui.acceptance.window import HEIGHT, WIDTH


def test_first_start_shows_demo_pacs_and_storage_scp(console):
    window = console.window
    # Fitted to the 1366×768 laptop screen (maximised: its frame fills the screen).
    frame, screen = window.frameGeometry(), window.screen().availableGeometry()
    assert (screen.width(), screen.height()) == (WIDTH, HEIGHT)
    assert screen.contains(frame) and frame.width() >= WIDTH - 8 and frame.height() >= HEIGHT - 8
    status = console.status_text()
    demo = console.demo
    assert f"Demo PACS: {demo.ae_title}@{demo.host}:{demo.port}" in status
    scp = console.ctx.settings
    assert f"Storage SCP: listening {scp.ae_title}:{scp.scp_port}" in status
    rows = console.rows(console.panel("Tests").table)
    assert ["Demo PACS", "DEMOPACS", "127.0.0.1", str(demo.port)] == rows[0][:4]
    # The Tests panel is where a first start lands, with its heading.
    assert console.panel("Tests").isVisible()


def test_the_storage_scp_button_in_the_status_bar_stops_and_starts_it(console):
    button = console.find(name="scp-state", parent=console.window.statusBar())
    port = console.ctx.settings.scp_port
    console.click(button)
    console.wait_text(button, f"Storage SCP: stopped (PACSCONSOLE:{port})", 5)
    console.click(button)
    console.wait_text(button, f"Storage SCP: listening PACSCONSOLE:{port}", 5)
