"""The live feed a relay view reads: each event of an association once, in order, as rows on a
bounded queue (dropped and counted when the view is behind), patient data redacted."""

from __future__ import annotations

from pacs_console.core.dicom.wire import pdu
from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.live import LiveFeed
from tests.core.relay.pdus import CT, EXPLICIT, ac, ct_dataset, encode, rq, store_rq, store_rsp


def _drain(feed: LiveFeed) -> list[dict]:
    rows = []
    while not feed.queue.empty():
        rows.append(feed.queue.get_nowait())
    return rows


def test_each_event_once_in_order_as_it_passes():
    feed, conv = LiveFeed(), Conversation("10.0.0.5:4000", "10.0.0.9:104")
    steps = [(RQ, rq([(CT, [EXPLICIT])], called="PACS", calling="CT1")), (AC, ac([0])),
             (RQ, store_rq(1, encode(ct_dataset()))), (AC, store_rsp(1, 0)),
             (RQ, store_rq(2, encode(ct_dataset()))), (AC, store_rsp(2, 0xA700)),
             (RQ, pdu.release_rq()), (AC, pdu.release_rp())]
    seen = []
    for direction, data in steps:
        for pos in range(0, len(data), 1000):  # a chunk at a time, as the pumps read
            conv.feed(direction, data[pos:pos + 1000], 5.0)
            feed(7, conv)
        seen.append([r["kind"] for r in _drain(feed)])
    assert seen == [["A-ASSOCIATE-RQ"], ["A-ASSOCIATE-AC"], ["C-STORE-RQ"], ["C-STORE-RSP"],
                    ["C-STORE-RQ"], ["C-STORE-RSP"], ["A-RELEASE-RQ"], ["A-RELEASE-RP"]]
    conv.close(when=6.0)
    feed(7, conv)
    [close] = _drain(feed)
    assert close["kind"] == "close"
    feed(7, conv)
    assert feed.queue.empty()
    for other in range(8, 8 + 300):  # ended associations are forgotten after a while
        ended = Conversation()
        ended.close(when=1.0)
        feed(other, ended)
    assert len(feed.seen) <= 257 and 7 not in feed.seen


def test_a_view_that_falls_behind_loses_rows_not_traffic():
    feed, conv = LiveFeed(limit=3), Conversation()
    conv.feed(RQ, rq([(CT, [EXPLICIT])]), 1.0)
    conv.feed(AC, ac([0]), 1.0)
    for n in range(1, 6):
        conv.feed(RQ, store_rq(n, encode(ct_dataset())), 1.0)
        conv.feed(AC, store_rsp(n, 0), 1.0)
        feed(1, conv)
    assert feed.queue.qsize() == 3 and feed.dropped == 12 - 3


def test_rows_are_redacted():
    feed, conv = LiveFeed(), Conversation()
    conv.feed(RQ, rq([(CT, [EXPLICIT])], calling="Mensah^Efua"), 1.0)  # a name where an AE goes
    feed(1, conv)
    [row] = _drain(feed)
    assert row["kind"] == "A-ASSOCIATE-RQ" and "Mensah" not in repr(row)
