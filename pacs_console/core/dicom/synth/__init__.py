"""Synthetic, realistic DICOM data for the demo PACS, tests and benchmarks: studies and worklist
items (``studies``) and vectorised phantom pixels (``images``).

May import: ``wire`` (for the console's identity) and the top-level modules; never ``ops`` or ``servers``.
"""
