"""First start: what a person sees when the console opens on a fresh data folder with --demo."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSpinBox

from tests.ui.acceptance.window import HEIGHT, WIDTH, scp_port_shown


def test_first_start_shows_demo_pacs_and_storage_scp(console):
    window = console.window
    # Fitted to the 1366×768 laptop screen (maximised: its frame fills the screen).
    frame, screen = window.frameGeometry(), window.screen().availableGeometry()
    assert (screen.width(), screen.height()) == (WIDTH, HEIGHT)
    assert screen.contains(frame) and frame.width() >= WIDTH - 8 and frame.height() >= HEIGHT - 8
    status = console.status_text()
    demo = console.demo
    assert f"Demo PACS: {demo.ae_title}@{demo.host}:{demo.port}" in status
    assert "Storage SCP: listening PACSCONSOLE:" in status
    rows = console.rows(console.panel("Tests").table)
    assert ["Demo PACS", "DEMOPACS", "127.0.0.1", str(demo.port)] == rows[0][:4]
    # The Tests panel is where a first start lands, with its heading.
    assert console.panel("Tests").isVisible()


def test_any_free_port_shows_the_port_it_listens_on_and_keeps_it(console):
    """Storage SCP port 0 ("any free port", the OS picks when it binds): the status bar and
    Settings show the real port, the one an engineer configures on the remote PACS."""
    from pacs_console.core.dicom.ops.echo import echo

    port = scp_port_shown(console)
    assert port > 0 and echo("127.0.0.1", port, "PACSCONSOLE").ok
    seen = {}

    def look(dialog):
        spin = dialog.find(QSpinBox, "scp_port")
        seen["port"] = console.text(spin)
        seen["listening"] = console.text(dialog.find(QLabel, "scp_port-listening"))
        seen["note"] = console.text(dialog.find(QLabel, "scp_port-message"))
        # Thirty fields on a 1366×768 laptop: the dialog fits the screen, its fields scroll.
        seen["height"] = dialog.widget.frameGeometry().height()
        dialog.click("Cancel")

    with console.dialogs(look):
        console.menu("File", "Settings…")
    assert seen["port"] == "Any free port"
    assert f"Listening now on port {port}" in seen["listening"]
    assert "status bar shows" in seen["note"]
    assert seen["height"] <= HEIGHT, seen["height"]
    button = console.find(name="scp-state", parent=console.window.statusBar())
    console.click(button)
    console.wait_text(button, "Storage SCP: stopped (PACSCONSOLE:any free port)", 5)
    console.click(button)
    console.wait_text(button, f"Storage SCP: listening PACSCONSOLE:{port}", 5)
