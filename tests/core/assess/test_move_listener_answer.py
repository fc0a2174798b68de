"""The C-MOVE listener's refusal reaches a node that sent more than its association request
(pipelined bytes after the A-ASSOCIATE-RQ): the listener drains them before it closes, so its
close is not a reset that throws the A-ASSOCIATE-RJ away unread (a fuzz case found this)."""

from __future__ import annotations

import socket
import time

from pacs_console.core.assess.move_listener import MoveListener
from pacs_console.core.dicom.wire import pdu

RQ = pdu.associate_rq("PCA-NO-SUCH-DEST", "SOME-PACS", [("1.2.840.10008.5.1.4.1.1.2",
                                                       ["1.2.840.10008.1.2.1"])],
                      pdu.UserInfo(16384, "1.2.3", "FUZZ"))


def test_the_refusal_is_read_even_when_more_than_the_request_was_sent():
    for _ in range(3):
        with MoveListener("127.0.0.1", 0, timeout=0.5) as ear:
            with socket.create_connection(("127.0.0.1", ear.port), timeout=2) as conn:
                conn.sendall(RQ + b"\x04\x00" + bytes(4000))  # a P-DATA that came too soon
                time.sleep(0.3)  # the listener has answered and closed before we read
                answer = b""
                while chunk := conn.recv(4096):
                    answer += chunk
            assert ear.wait(3)
        assert answer == pdu.associate_rj(1, 1, 7)
        assert ear.seen[0].called_ae == "PCA-NO-SUCH-DEST"
