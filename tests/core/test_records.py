"""``core.records.record`` behaves as ``dataclass`` does: the same repr, equality and hashing,
a class's own methods kept, and every record the command line makes is one."""

from __future__ import annotations

import dataclasses
from dataclasses import field

import pytest

from pacs_console.core.records import record


def _pair(**options):
    made = []
    for decorate in (dataclasses.dataclass, record):
        @decorate(**options)
        class Item:
            """An item."""

            name: str
            size: int = 0
            tags: tuple = ()
            note: str = field(default="", repr=False, compare=False)
        made.append(Item)
    return made


@pytest.mark.parametrize("options", [{}, {"frozen": True}, {"kw_only": True},
                                     {"frozen": True, "slots": True}])
def test_a_record_reprs_compares_and_hashes_as_a_dataclass(options):
    plain, rec = _pair(**options)
    a, b = plain(name="x", size=2, tags=("t",), note="n"), rec(name="x", size=2, tags=("t",),
                                                                note="n")
    assert repr(a) == repr(b) == "_pair.<locals>.Item(name='x', size=2, tags=('t',))"
    assert b == rec(name="x", size=2, tags=("t",), note="other")  # note: compare=False
    assert b != rec(name="x", size=3, tags=("t",))
    assert (b == a) is False  # another class: NotImplemented both ways, as for dataclasses
    if options.get("frozen"):
        assert hash(b) == hash(rec(name="x", size=2, tags=("t",), note="other"))
        assert {b: 1}[rec(name="x", size=2, tags=("t",))] == 1
        with pytest.raises(dataclasses.FrozenInstanceError):
            b.size = 5
    else:
        assert type(a).__hash__ is None and type(b).__hash__ is None
        with pytest.raises(TypeError):
            hash(b)
    assert dataclasses.asdict(b) == dataclasses.asdict(a)
    assert dataclasses.replace(b, size=9).size == 9


def test_a_record_keeps_the_methods_its_class_writes_and_nests_in_its_repr():
    @record(frozen=True)
    class Own:
        """Own methods."""

        key: str
        other: str = ""

        def __repr__(self) -> str:
            return f"<{self.key}>"

        def __hash__(self) -> int:
            return hash(self.key)

    @record
    class Holder:
        """Holds records."""

        items: list = field(default_factory=list)

    assert repr(Own("k")) == "<k>" and hash(Own("k", "a")) == hash(Own("k", "b"))
    holder = Holder([Own("k")])
    holder.items.append(holder)
    assert repr(holder).endswith(".Holder(items=[<k>, ...])")  # a record inside itself, as dataclasses


def test_a_subclass_compares_its_own_fields_and_not_with_its_parent():
    @record
    class Base:
        """A base."""

        a: int = 0

    @record
    class Child(Base):
        """A child."""

        b: int = 0

    assert Child(1, 2) == Child(1, 2) and Child(1, 2) != Child(1, 3)
    assert (Child(1, 0) == Base(1)) is False and repr(Child(1, 2)).endswith(".Child(a=1, b=2)")


def test_record_refuses_the_options_it_makes_itself():
    with pytest.raises(TypeError):
        record(eq=False)


def test_the_records_a_command_line_makes_before_its_request_are_records():
    from pacs_console import paths
    from pacs_console.core import errors, profile, settings
    from pacs_console.core.dicom.ops import query, results
    from pacs_console.core.dicom.wire import params, pdu, target, ul

    for cls in (settings.Settings, profile.Profile, paths.AppPaths, target.Target,
                params.Timeouts, pdu.Context, pdu.Associate, pdu.UserInfo, ul.Accepted,
                ul.LeanAssociation, results.OperationResult, query.FindResult,
                errors.Diagnosis):
        assert dataclasses.is_dataclass(cls)
        assert cls.__repr__.__module__ == "pacs_console.core.records", cls
