"""multipart/related: a streaming reader for WADO-RS responses and a writer for STOW-RS bodies."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator


def boundary_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary":
            return value.strip().strip('"')
    return None


def _headers(block: bytes) -> dict[str, str]:
    out = {}
    for line in block.decode("latin-1").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def iter_parts(chunks: Iterable[bytes], boundary: str) -> Iterator[tuple[dict[str, str], bytes]]:
    """(headers, body) for each part as soon as it is complete; memory holds one part at most."""
    delim = b"--" + boundary.encode("latin-1")
    separator = b"\r\n" + delim
    buf = bytearray()
    state, scanned = "preamble", 0
    for chunk in chunks:
        buf += chunk
        while True:
            if state == "preamble":
                index = buf.find(delim)
                if index < 0:
                    break
                del buf[:index + len(delim)]
                state = "delimiter"
            if state == "delimiter":
                if len(buf) < 2:
                    break
                if buf[:2] == b"--":
                    return
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                headers = _headers(bytes(buf[:end]))
                del buf[:end + 4]
                state, scanned = "body", 0
            if state == "body":
                # Search only the new bytes (plus an overlap): big parts stay linear.
                index = buf.find(separator, max(0, scanned - len(separator)))
                if index < 0:
                    scanned = len(buf)
                    break
                yield headers, bytes(buf[:index])
                del buf[:index + len(separator)]
                state = "delimiter"


def build(parts: Iterable[bytes], content_type: str = "application/dicom"
          ) -> tuple[str, Iterator[bytes]]:
    """(Content-Type header, body chunks) of a multipart/related request."""
    boundary = "pacs-console-" + secrets.token_hex(12)

    def body() -> Iterator[bytes]:
        for part in parts:
            yield f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode()
            yield part
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    header = f'multipart/related; type="{content_type}"; boundary={boundary}'
    return header, body()
