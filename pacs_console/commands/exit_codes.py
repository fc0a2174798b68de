"""Exit codes for the DICOM subcommands, one per failure class; scripts and CI depend on them."""

from __future__ import annotations

OK = 0
FAILED = 1  # the operation ran and failed for a reason not listed below
USAGE = 2  # bad command line (argparse), unknown node, unreadable input
NETWORK = 3  # host name does not resolve, no route, other network errors
REFUSED = 4  # TCP connection refused: service down or wrong port
TIMEOUT = 5  # connect, association or DIMSE timeout
REJECTED = 6  # A-ASSOCIATE-RJ: called or calling AE not recognised, peer busy
ABORTED = 7  # A-ABORT, or no presentation context accepted
TLS = 8  # TLS handshake or certificate failure
DIMSE_FAILURE = 9  # the peer answered with a failure status (e.g. 0xA801, 0xC000)
PARTIAL = 10  # some sub-operations or files failed, others succeeded
INTERRUPTED = 130  # stopped with Ctrl+C

HELP = """exit codes:
  0    success
  1    failed (other reasons)
  2    usage error, unknown node or unreadable input
  3    network: name does not resolve, no route to host
  4    connection refused (service down or wrong port)
  5    timeout (connect, association or DIMSE)
  6    association rejected (called/calling AE not recognised, peer busy), or a
       query left unanswered because the node does not know this console's AE
  7    association aborted, or no presentation context accepted
  8    TLS handshake or certificate failure
  9    DIMSE failure status from the peer (e.g. 0xA801 move destination unknown)
  10   partial: some sub-operations or files failed
  130  interrupted"""


def for_diagnosis(code: str | None) -> int:
    """Map a Diagnosis code to its exit code."""
    if not code:
        return FAILED
    if code.startswith("tls-"):
        return TLS
    if code in ("name-resolution", "no-route", "network-error", "host-unreachable"):
        return NETWORK
    if code == "connection-refused":
        return REFUSED
    if "timeout" in code:
        return TIMEOUT
    if code in ("called-ae-rejected", "calling-ae-rejected", "association-rejected", "peer-busy",
                "no-matches-unregistered-ae"):
        return REJECTED
    if code in ("association-aborted", "no-presentation-context", "peer-aborted",
                "context-not-accepted", "closed-without-answer") or code.startswith("abort"):
        return ABORTED
    if code.startswith("partial"):
        return PARTIAL
    return DIMSE_FAILURE
