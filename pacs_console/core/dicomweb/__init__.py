"""DICOMweb: QIDO-RS search, WADO-RS into the local store, STOW-RS, with diagnosis."""
