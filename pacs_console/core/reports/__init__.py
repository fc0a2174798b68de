"""Visit reports: gather the visit's data, lay it out as a PDF, sign it (PAdES) and verify it."""
