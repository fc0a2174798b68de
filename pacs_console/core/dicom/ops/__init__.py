"""Operations an engineer runs against a node: echo, find (``query``), retrieve (C-MOVE/C-GET),
store, capability probe and C-MOVE pre-flight, one module each, and ``results`` (JSON-safe
values, statistics, test-run evidence) shared by them.

May import: ``wire``, ``diagnosis``, ``synth`` and the top-level ``names``, ``charsets``,
``identifiers``; never ``servers``, never another operation's private names.
"""
