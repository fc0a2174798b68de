"""PACS Console: a field engineer's toolkit for hospital PACS."""

__version__ = "0.1.0"
