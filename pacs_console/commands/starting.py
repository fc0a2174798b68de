"""A DICOM subcommand that puts its request on the wire first: its log and the console's context
come up only when needed (pynetdicom or pydicom, the database, a diagnosis's known fixes),
instead of before the connection.

The log (logging: ~5 ms of a start) and the context (queue, threading: ~3 ms) are no part of a
C-FIND, a C-ECHO or a C-STORE of files on the lean path, nor of its evidence saved through the
light path: a query, an echo or a store that worked never loads them. Before the request only
the folders and the settings are read: the calling AE title, the timeouts and the PDU size it
carries (and, for a store, the files it sends).
"""

from __future__ import annotations

from contextlib import contextmanager, suppress


class StartingContext:
    """A ``core.context.Context`` still starting: ``paths`` and ``settings`` now, the rest
    from ``start()`` (the log set up, the Context opened; once), which any other attribute
    runs first. A settings file of an older schema is upgraded (and logged) the ordinary way:
    the log comes up at once then; an unusable one is logged by the end of the run."""

    def __init__(self, args) -> None:
        from pacs_console.paths import app_paths

        self._context = None
        self._verbose = args.verbose
        self._problem = ""
        self._settings = None
        self.paths = app_paths(args.data_dir).ensure()

    def read_settings(self) -> None:
        from pacs_console.core.settings import Settings, SettingsError, load_settings

        try:
            self._settings = load_settings(self.paths.settings_file, upgrade=False)
        except SettingsError as exc:
            # Run on defaults, as Context.open does; the log says why once it is up.
            self._settings, self._problem = Settings(), str(exc)
        if self._settings is None:
            self.start()

    @property
    def settings(self):
        return self._settings if self._context is None else self._context.settings

    def start(self):
        """The log set up and the Context opened, as ``dimse_common.opened_context`` does;
        returns the Context."""
        if self._context is None:
            from pacs_console.core.context import Context
            from pacs_console.logs import setup_logging

            setup_logging(self.paths.logs, verbose=self._verbose)
            self._context = (Context.open(self.paths) if self._settings is None
                             else Context.loaded(self.paths, self._settings, self._problem))
        return self._context

    def __getattr__(self, name: str):
        return getattr(self.start(), name)

    def close(self) -> None:
        if self._problem:  # an unusable settings file is logged on every run, as ever
            self.start()
        if self._context is not None:
            self._context.close()


@contextmanager
def starting_context(args, quiet: tuple[type[BaseException], ...] = ()):
    """A ``StartingContext``, closed after. An error other than ``quiet`` ones (a usage
    problem, Ctrl+C: each one line) starts it on its way out, so an uncaught one is logged and
    printed redacted by the log's hooks, as after ``opened_context``."""
    ctx = StartingContext(args)
    try:
        ctx.read_settings()
        yield ctx
    except quiet:
        raise
    except BaseException:
        with suppress(Exception):  # what failed may fail again here: the first error is raised
            ctx.start()
        raise
    finally:
        ctx.close()
