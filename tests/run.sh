#!/usr/bin/env bash
# Install everything the tests need (real peers included) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/peers/install.sh
bash packaging/dev-install.sh --test --build

export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check pacs_console tests
.venv/bin/lint-imports --config pyproject.toml
.venv/bin/python -m pytest -p no:cacheprovider "$@"
