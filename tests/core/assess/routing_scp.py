"""An in-process archive that routes every C-MOVE destination AE, known or not, to one third
address (a misconfigured 'default route'), and answers as DCMTK's Q/R SCP does when that
address cannot be reached: every sub-operation failed (0xA702, Number of Failed
Sub-operations = the matches). Built on the console's own codec (``dicom.wire.pdu``/``ul``)."""

from __future__ import annotations

import socket
import threading

from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from tests.loopback import LoopbackListener

ECHO, FIND, MOVE = 0x0030, 0x0020, 0x0021
STUDY_UID = "1.2.826.0.1.3680043.10.1321.777"  # the one study it holds


def _explicit(syntax: str) -> bool:
    return syntax != "1.2.840.10008.1.2"


def _study_answer(explicit: bool) -> bytes:
    from pacs_console.core.assess.dicom_checks import identifier

    return identifier(explicit, STUDY_UID)


class RoutingArchive(LoopbackListener):
    """Accepts any AE; one study; C-MOVE to anything goes to ``route`` (host, port)."""

    def __init__(self, host: str, route: tuple[str, int], ae_title: str = "ROUTER") -> None:
        self.route, self.ae_title = route, ae_title
        self.attempts: list[tuple[str, str, bool]] = []  # (destination AE, address, reached)
        super().__init__(host=host)

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        timeouts = Timeouts(connect=5, acse=5, dimse=5, network=5)
        assoc = ul.LeanAssociation(conn, Target("127.0.0.1", 0, "", timeouts=timeouts))
        try:
            kind, body = assoc._pdu()
            rq = pdu.decode_associate(kind, body)
            answers = [pdu.Context(cx.id, transfer_syntaxes=[cx.transfer_syntaxes[0]])
                       for cx in rq.contexts]
            conn.sendall(pdu.associate_ac(rq.called_raw, rq.calling_raw, answers,
                                          pdu.UserInfo(16384, "1.2.826.0.1.3680043.10.1321",
                                                       "ROUTER_1")))
            syntax = {cx.id: cx.transfer_syntaxes[0] for cx in rq.contexts}
            while True:
                cx_id, fields, data = assoc.receive(5)
                self._answer(assoc, cx_id, fields, data, _explicit(syntax.get(cx_id, "")))
        except (ul.Lost, pdu.ProtocolError, OSError):
            pass
        finally:
            conn.close()

    def _answer(self, assoc, cx_id: int, fields: dict, data, explicit: bool) -> None:
        command, msg_id = fields.get(0x0100), fields.get(0x0110, 0)
        sop = fields.get(0x0002, "")
        base = {0x0002: sop, 0x0100: command | 0x8000 if isinstance(command, int) else 0,
                0x0120: msg_id, 0x0800: ul.NO_DATASET}
        if command == ECHO:
            assoc.send(cx_id, pdu.encode_command({**base, 0x0900: 0x0000}))
        elif command == FIND:
            assoc.send(cx_id, pdu.encode_command({**base, 0x0800: 0, 0x0900: 0xFF00}),
                       _study_answer(explicit))
            assoc.send(cx_id, pdu.encode_command({**base, 0x0900: 0x0000}))
        elif command == MOVE:
            from pacs_console.core.assess.dicom_checks import study_uid

            if study_uid(data, explicit) != STUDY_UID:  # no match: nothing to send anywhere
                answer = {0x0900: 0x0000, 0x1021: 0, 0x1022: 0, 0x1023: 0}
            else:
                answer = self._move(str(fields.get(0x0600)))
            assoc.send(cx_id, pdu.encode_command({**base, **answer}))

    def _move(self, destination: str) -> dict:
        """Try the one route for any destination; the final answer's status and counts."""
        try:
            with socket.create_connection(self.route, timeout=2):
                reached = True
        except OSError:
            reached = False
        self.attempts.append((destination, f"{self.route[0]}:{self.route[1]}", reached))
        if reached:  # not what this archive is for: say so rather than pretend
            return {0x0900: 0xC000}
        return {0x0900: 0xA702, 0x1021: 0, 0x1022: 1, 0x1023: 0}
