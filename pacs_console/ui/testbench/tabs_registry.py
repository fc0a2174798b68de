"""Which operation tabs the Tests panel shows between Verify and History, in order."""

from __future__ import annotations

from pacs_console.ui.testbench.probe_tab import ProbeTab
from pacs_console.ui.testbench.query_tab import QueryTab
from pacs_console.ui.testbench.retrieve_tab import RetrieveTab
from pacs_console.ui.testbench.store_tab import StoreTab

TABS: list[tuple[str, object]] = [("Query", QueryTab), ("Retrieve", RetrieveTab),
                                  ("Store", StoreTab), ("Capabilities", ProbeTab)]

from pacs_console.ui.testbench.integration_tab import IntegrationTab  # noqa: E402 - appended

TABS.append(("Integration", IntegrationTab))

from pacs_console.ui.testbench.health_tab import HealthTab  # noqa: E402 - appended

TABS.append(("Site health", HealthTab))

from pacs_console.ui.testbench.archive_tab import ArchiveTab  # noqa: E402 - appended

TABS.append(("Archive", ArchiveTab))

from pacs_console.ui.testbench.relay_tab import RelayTab  # noqa: E402 - appended

TABS.append(("Relay", RelayTab))
