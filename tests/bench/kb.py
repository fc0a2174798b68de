"""Knowledge base at 10,000 articles: full-text search, and suggestions for a diagnosis code."""

from __future__ import annotations

import random
import tempfile
import time

from tests.bench.runner import Case

N_ARTICLES = 10_000
WORDS = ("archive", "worklist", "timeout", "refused", "association", "rejected", "router",
         "switch", "viewer", "slow", "retrieval", "storage", "full", "disk", "modality", "CT",
         "MR", "ultrasound", "HL7", "RIS", "interface", "certificate", "expired", "UPS", "power",
         "cut", "firmware", "restart", "listener", "port", "firewall", "VLAN", "cable", "printer",
         "backup", "failed", "license", "database", "lock", "calling", "called", "title")
CODES = ("called-ae-rejected", "calling-ae-rejected", "connection-refused", "tls-untrusted",
         "0xa801", "0xc000", "dimse-timeout", "no-presentation-context", "association-aborted")
VENDORS = ("Orthanc project", "OFFIS", "GE Healthcare", "Siemens Healthineers", "Philips",
           "Fujifilm", "Carestream", "")
# Articles also name devices, hosts and error details: a long tail, Zipf-distributed, as in
# the incident benchmark, so a two-word search matches a realistic share, not every article.
VOCABULARY = [f"{a}{n}" for n in range(750) for a in ("CT_", "host", "err", "ward")]
ZIPF = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
SEARCH = "certificate expired"
_state: dict = {}


def _setup() -> None:
    if "ctx" in _state:
        return
    from pacs_console.core.context import Context
    from pacs_console.core.kb.model import Article
    from pacs_console.core.kb.store import create_articles
    from pacs_console.paths import app_paths

    rng = random.Random(21)
    ctx = Context.open(app_paths(tempfile.mkdtemp(prefix="pacs-bench-kb-")).ensure())
    began = time.perf_counter()
    create_articles(ctx.db, (Article(
        title=" ".join(rng.sample(WORDS, 5)).capitalize(),
        symptoms=" ".join(rng.sample(WORDS, 8)),
        body=" ".join(rng.sample(WORDS, 6) + rng.choices(VOCABULARY, ZIPF, k=120)),
        cause=" ".join(rng.sample(WORDS, 6)), fix=" ".join(rng.sample(WORDS, 10)),
        codes=tuple(rng.sample(CODES, rng.randrange(0, 3))), vendor=rng.choice(VENDORS),
        site=f"Site {rng.randrange(40)}") for _ in range(N_ARTICLES)))
    print(f"seeded {N_ARTICLES:,} articles in {time.perf_counter() - began:.1f} s")
    _state["ctx"] = ctx


def _search() -> dict[str, float]:
    from pacs_console.core.kb.store import search

    db = _state["ctx"].db
    began = time.perf_counter()
    hits = search(db, SEARCH, limit=20)
    ours = time.perf_counter() - began
    words = SEARCH.split()
    clause = " AND ".join("(title || ' ' || symptoms || ' ' || body || ' ' || cause || ' ' || "
                          "fix) LIKE ?" for _ in words)
    began = time.perf_counter()
    with db.engine.connect() as connection:
        like = connection.exec_driver_sql(f"SELECT count(*) FROM kb_article WHERE {clause}",
                                          tuple(f"%{w}%" for w in words)).scalar()
    peer = time.perf_counter() - began
    if not hits or not like:
        raise RuntimeError("the seeded articles should match the search")
    return {"search_ms": ours * 1000, "like_scan_ms": peer * 1000, "matches": float(like)}


def _suggest() -> dict[str, float]:
    from pacs_console.core.kb.store import known_fixes_line, suggest

    began = time.perf_counter()
    line = known_fixes_line(suggest(_state["ctx"].db, ["called-ae-rejected"], "Orthanc project"))
    elapsed = time.perf_counter() - began
    if not line:
        raise RuntimeError("no suggestion for a seeded code")
    return {"suggest_ms": elapsed * 1000}


def _teardown() -> None:
    ctx = _state.pop("ctx", None)
    if ctx is not None:
        ctx.close()


def cases() -> list[Case]:
    return [
        Case("knowledge: full-text search over 10,000 articles", _search, "search_ms",
             target=30.0, unit="ms", peer_metric="like_scan_ms",
             peer_name="plain SQLite LIKE scan", setup=_setup),
        Case("knowledge: suggestions for a diagnosis code over 10,000 articles", _suggest,
             "suggest_ms", target=100.0, unit="ms", setup=_setup, teardown=_teardown),
    ]
