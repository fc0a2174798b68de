"""Unit tests of the GUI's plumbing (not GUI tests): the worker runner and queue bridge of
pacs_console/ui/workers.py and bridge.py, and static checks of how signals meet slots. Nothing
here drives the window; the acceptance suite (tests/ui/acceptance) does that, like a person."""
