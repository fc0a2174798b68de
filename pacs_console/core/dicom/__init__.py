"""DICOM networking: the AE factory, verification, the local and demo SCPs."""
