"""Node discovery: target parsing, the TCP sweep, DICOM and DICOMweb probes, inventory diffs."""
