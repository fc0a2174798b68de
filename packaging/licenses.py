"""The runtime set's licences: which distributions the app ships (pyproject's dependencies and
everything they require, from the installed metadata), the licence each declares, a check
that none is only available under a strong copyleft (GPL, AGPL) licence, and the
THIRD-PARTY-LICENSES file the frozen bundle carries.

    python packaging/licenses.py [OUT]     # writes OUT (default THIRD-PARTY-LICENSES.txt)
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
# "GPL" and "AGPL" in any spelling, but not "LGPL" (the Lesser GPL allows dynamic linking).
_STRONG = re.compile(r"(?<![L\w])A?GPL|GNU (Affero )?General Public License", re.IGNORECASE)
_LESSER = re.compile(r"LGPL|Lesser General Public|Library General Public", re.IGNORECASE)


@dataclass(frozen=True)
class Shipped:
    name: str
    version: str
    licence: str  # the declared expression, text or classifiers, as written
    alternatives: tuple[str, ...]  # the licences one may choose between
    files: tuple[str, ...]  # licence files in the distribution

    @property
    def copyleft_only(self) -> bool:
        """Every alternative is GPL or AGPL (no permissive or LGPL choice)."""
        return bool(self.alternatives) and all(
            _STRONG.search(a) and not _LESSER.search(a) for a in self.alternatives)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(root: Path = ROOT) -> list[Requirement]:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r) for r in data["project"]["dependencies"]]


def runtime_set(root: Path = ROOT) -> tuple[list[metadata.Distribution], list[str]]:
    """The installed distributions the app needs at run time, and the names not installed."""
    found: dict[str, metadata.Distribution] = {}
    missing: list[str] = []
    todo = [r for r in declared(root) if r.marker is None or r.marker.evaluate()]
    while todo:
        req = todo.pop()
        key = _norm(req.name)
        if key in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing.append(req.name)
            continue
        found[key] = dist
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return sorted(found.values(), key=lambda d: _norm(d.metadata["Name"])), sorted(missing)


def describe(dist: metadata.Distribution) -> Shipped:
    meta = dist.metadata
    expression = (meta.get("License-Expression") or "").strip()
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::") and "OSI Approved" != c.split("::")[-1].strip()]
    text = (meta.get("License") or "").strip()
    if expression:
        alternatives = tuple(a.strip(" ()") for a in re.split(r"\s+OR\s+", expression))
        shown = expression
    elif classifiers:
        alternatives, shown = tuple(classifiers), "; ".join(classifiers)
    else:
        first = text.splitlines()[0][:120] if text else ""
        alternatives, shown = ((first,) if first else ()), first or "not declared"
    files = tuple(str(f) for f in dist.files or ()
                  if re.search(r"(LICEN[CS]E|COPYING|NOTICE)", f.name, re.IGNORECASE))
    return Shipped(meta["Name"], dist.version, shown, alternatives, files)


def third_party_text(shipped: list[Shipped]) -> str:
    lines = ["PACS Console: third-party components shipped with this build", "",
             "Each component keeps its own licence; the licence texts are in the",
             "component's own folder of this bundle where its authors ship them.", ""]
    width = max(len(s.name) for s in shipped) + 2
    vwidth = max(len(s.version) for s in shipped) + 2
    for item in shipped:
        lines.append(f"{item.name:<{width}}{item.version:<{vwidth}}{item.licence}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "THIRD-PARTY-LICENSES.txt"
    dists, missing = runtime_set()
    shipped = [describe(d) for d in dists]
    bad = [s for s in shipped if s.copyleft_only]
    for name in missing:
        print(f"licenses: {name} is required but not installed", file=sys.stderr)
    for item in bad:
        print(f"licenses: {item.name} {item.version} is {item.licence}: copyleft, not "
              "allowed in the proprietary bundle", file=sys.stderr)
    if missing or bad:
        return 1
    out.write_text(third_party_text(shipped), encoding="utf-8")
    print(f"licenses: {len(shipped)} components listed in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
