"""HL7 v2 over MLLP as it passed on a connection: messages, their ACKs, what went wrong.

Only the MSH routing fields and the ACK codes are kept; segments that identify a patient are
never copied into the summary (the raw bytes stay in the capture file).
"""

from __future__ import annotations

from pacs_console.core import phi
from pacs_console.core.errors import Diagnosis

START, END = 0x0B, b"\x1c\x0d"
MESSAGE_LIMIT = 4 << 20
MAX_MESSAGES = 20000


class Hl7Conversation:
    def __init__(self, client: str, server: str) -> None:
        self.client, self.server = client, server
        self.buffers = {"rq": bytearray(), "ac": bytearray()}
        self.messages: list[dict] = []
        self.acks: dict[str, dict] = {}
        self.problems: list[Diagnosis] = []
        self.started: float | None = None
        self.ended: float | None = None
        self.dropped = 0

    def feed(self, direction: str, data, when: float) -> None:
        self.started = when if self.started is None else self.started
        self.ended = when
        buf = self.buffers[direction]
        buf += data
        while True:
            start = buf.find(bytes([START]))
            if start < 0:
                buf.clear()
                return
            end = buf.find(END, start)
            if end < 0:
                if len(buf) - start > MESSAGE_LIMIT:
                    self._problem("hl7-oversized", f"an MLLP block over {MESSAGE_LIMIT} bytes")
                    buf.clear()
                else:
                    del buf[:start]
                return
            block = bytes(buf[start + 1:end])
            del buf[:end + 2]
            try:
                self._message(direction, block.decode("utf-8", "replace"), when)
            except Exception as exc:  # noqa: BLE001 - one bad message is a finding
                self._problem("hl7-unreadable", f"an HL7 message could not be read: {exc}")

    def _problem(self, code: str, what: str) -> None:
        self.problems.append(Diagnosis(code, what, ("a malformed message",),
                                       ("show the capture to the interface vendor",), {}))

    def _message(self, direction: str, text: str, when: float) -> None:
        from pacs_console.core.hl7.ack import message_summary, parse_ack

        info = message_summary(text)
        entry = {"from": direction, "t": round(when - (self.started or when), 4),
                 "type": info.get("type", ""), "control_id": info.get("control_id", ""),
                 "sending_app": info.get("sending_app", ""),
                 "receiving_app": info.get("receiving_app", "")}
        if "MSA|" in text:
            ack = parse_ack(text)
            entry["ack"] = ack.code
            self.acks[ack.control_id] = {"ack": ack, "when": when}
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(entry)
        else:
            self.dropped += 1

    def summary(self) -> dict:
        from pacs_console.core.hl7.mllp import ack_diagnosis

        found = list(self.problems)
        unanswered = [m for m in self.messages if "ack" not in m
                      and m["control_id"] not in self.acks]
        for message in self.messages:
            answer = self.acks.get(message["control_id"]) if "ack" not in message else None
            if answer is not None:
                message["answered_with"] = answer["ack"].code
                if not answer["ack"].accepted:
                    found.append(ack_diagnosis(answer["ack"]))
        if unanswered:
            found.append(Diagnosis(
                "hl7-no-ack", f"{len(unanswered)} HL7 message(s) never got an ACK",
                ("the receiver is down, hung or not reading", "wrong MLLP framing on the sender"),
                ("check the receiver's interface engine log",),
                {"control IDs": ", ".join(m["control_id"] for m in unanswered[:10])}))
        duration = max(0.0, (self.ended or 0.0) - (self.started or 0.0))
        return phi.redact_json({
            "protocol": "hl7", "client": self.client, "server": self.server,
            "started": self.started, "duration_s": round(duration, 3),
            "messages": self.messages, "messages_not_kept": self.dropped,
            "result": "answered" if self.messages and not unanswered else "unanswered",
            "diagnosis": [d.to_dict() for d in found]})
