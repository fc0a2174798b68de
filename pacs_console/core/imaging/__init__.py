"""Imaging: index studies from folders, DICOMDIRs, zips and the received store; render; de-identify."""
