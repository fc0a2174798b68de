"""Everything that works without Qt: DICOM, discovery, database, reports, sync."""
