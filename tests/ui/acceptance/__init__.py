"""Acceptance suite: the real main window at 1366x768, driven only through visible widgets."""
