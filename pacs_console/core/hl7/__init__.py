"""HL7 v2 over MLLP: send with hard timeouts, explain ACKs, templates, a listener that answers."""
