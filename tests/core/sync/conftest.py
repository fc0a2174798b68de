"""Fixtures for sync tests: a console context pointed at the session's real Request Tracker."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from pacs_console.core.sync import helpdesk
from pacs_console.core.sync.adapters.base import HelpdeskConfig


@pytest.fixture
def rt_ctx(ctx, rt_peer):
    """A context whose helpdesk is the session RT (token in the test keyring)."""
    config = HelpdeskConfig(kind="rt", url=rt_peer.url, queue=rt_peer.queue, user=rt_peer.user,
                            timeout=10.0)
    helpdesk.save_config(ctx, config, rt_peer.token)
    return ctx


def run(generator):
    """Drive a core generator to its return value."""
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


@contextmanager
def laptops_on(folder, rt_peer, names=("tamale", "ho")):
    """Engineers' laptops (one console data folder each), all set up for the session RT."""
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths

    opened = []
    try:
        for name in names:
            ctx = Context.open(app_paths(folder / name).ensure())
            opened.append(ctx)
            helpdesk.save_config(ctx, HelpdeskConfig(kind="rt", url=rt_peer.url,
                                                     queue=rt_peer.queue, user=rt_peer.user,
                                                     timeout=10.0), rt_peer.token)
        yield opened
    finally:
        for ctx in opened:
            ctx.close()


@contextmanager
def cli_laptop(folder, rt_peer):
    """(context, environment) of a data folder set up for the session RT by `helpdesk set`,
    the token in the environment as a `pacs-console` child process reads it."""
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths
    from tests.conftest import run_cli

    env = {**os.environ, "PACS_CONSOLE_HELPDESK_TOKEN": rt_peer.token}
    assert run_cli("helpdesk", "set", "--kind", "rt", "--url", rt_peer.url, "--queue",
                   rt_peer.queue, "--user", rt_peer.user, data_dir=folder, env=env).returncode == 0
    ctx = Context.open(app_paths(folder).ensure())
    try:
        yield ctx, env
    finally:
        ctx.close()
