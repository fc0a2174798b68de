"""The knowledge base: articles written from incident resolutions or from scratch (SOPs,
checklists), found by full-text search (SQLite FTS5, bm25) and suggested beside a diagnosis
code; shared with the team through the helpdesk.

model.py holds the article and its PHI scrub, store.py saves/searches/suggests, draft.py
turns a closed incident into an article draft.
"""
