"""Where data, settings, cache and logs live: platformdirs, a --data-dir override, resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pacs_console.core.records import record

APP_NAME = "pacs-console"
APP_AUTHOR = "PACSConsole"


def _under(folder: str, name: str) -> property:
    """A path named ``name`` in one of the four folders, read as an attribute."""
    return property(lambda paths: getattr(paths, folder) / name)


@record(frozen=True)
class AppPaths:
    """The four folders the console writes to; all of them sit under --data-dir when given."""

    data: Path
    config: Path
    cache: Path
    logs: Path

    database = _under("data", "pacs-console.sqlite3")
    settings_file = _under("config", "settings.json")
    qt_state_file = _under("config", "window-state.ini")
    # Files received by the local Storage SCP (C-MOVE, C-GET, C-STORE to the console).
    store = _under("data", "store")

    def ensure(self) -> AppPaths:
        for folder in (self.data, self.config, self.cache, self.logs, self.store):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def app_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Resolve the folders; an explicit data dir (or PACS_CONSOLE_DATA_DIR) holds all four."""
    override = data_dir or os.environ.get("PACS_CONSOLE_DATA_DIR")
    if override:
        root = Path(override).expanduser().resolve()
        return AppPaths(root / "data", root / "config", root / "cache", root / "logs")
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
    return AppPaths(
        Path(dirs.user_data_dir),
        Path(dirs.user_config_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


def resource_path(*parts: str) -> Path:
    """A file under resources/, in a source checkout, an installed wheel or a frozen build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root, "resources", *parts)
    # Source checkout and editable installs: resources/ sits beside the package.
    return Path(__file__).resolve().parent.parent.joinpath("resources", *parts)
