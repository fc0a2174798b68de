"""``record``: a dataclass whose ``__repr__``, ``__eq__`` and (frozen) ``__hash__`` are shared
functions instead of code generated for each class.

``dataclasses`` (Python 3.11) writes each of those methods as source text and compiles it
while the class is made: ~0.1 ms a method, three or six methods a class. A command line makes
~25 records before its request can go out (settings, folders, the target, the PDUs, the
result), so the compiling cost a C-FIND ~3 ms of a ~15 ms start. Only ``__init__`` (and a
frozen record's ``__setattr__``/``__delattr__``) is still written per class. The shared
methods do what the generated ones do: repr names the fields with ``repr=True``; equality
compares the fields with ``compare=True`` of two records of the same class; a frozen record
hashes those fields (or those with ``hash=True``); a mutable one is unhashable. A method the
class writes itself is kept, as ``dataclass`` keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from reprlib import recursive_repr

__all__ = ["record"]


def record(cls=None, /, **options):
    """``@dataclass`` (same options, ``repr``/``eq``/``unsafe_hash`` excepted) with the shared
    methods; ``@record`` or ``@record(frozen=True, ...)``."""
    if {"repr", "eq", "unsafe_hash"} & set(options):
        raise TypeError("record() always makes repr and equality; use dataclass() otherwise")

    def wrap(cls):
        own = cls.__dict__
        explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
        cls = dataclass(cls, repr=False, eq=False, **options)
        if "__repr__" not in own:
            cls.__repr__ = _repr
        if "__eq__" not in own:
            cls.__eq__ = _eq
        if not explicit_hash:
            cls.__hash__ = _hash if options.get("frozen") else None
        return cls

    return wrap if cls is None else wrap(cls)


@recursive_repr()
def _repr(self) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _compared(self) -> tuple:
    return tuple(getattr(self, f.name) for f in fields(self) if f.compare)


def _eq(self, other):
    if other.__class__ is self.__class__:
        return _compared(self) == _compared(other)
    return NotImplemented


def _hash(self) -> int:
    return hash(tuple(getattr(self, f.name) for f in fields(self)
                      if (f.compare if f.hash is None else f.hash)))
