"""Every build is the one that was tested, and its licences fit a proprietary bundle: exact
pins used by dev-install (so CI and the frozen build), and no GPL/AGPL-only component in the
runtime set, whose licences the bundle lists in THIRD-PARTY-LICENSES."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import licenses  # noqa: E402 - lives in packaging/, not a package

CONSTRAINTS = ROOT / "packaging" / "constraints.txt"


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: {line!r} is not an exact pin"
            pins[licenses._norm(name)] = version
    return pins


def test_constraints_pin_every_runtime_test_and_build_dependency_exactly():
    pins = _pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *sum(project["optional-dependencies"].values(), [])]
    for requirement in map(licenses.Requirement, wanted):
        assert licenses._norm(requirement.name) in pins, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(pins[licenses._norm(requirement.name)]), (
            f"{requirement} excludes its pin {pins[licenses._norm(requirement.name)]}")
    assert "pacs-console" not in pins and "pylibjpeg-libjpeg" not in pins
    install = (ROOT / "packaging" / "dev-install.sh").read_text(encoding="utf-8")
    assert re.search(r"pip install .*-c packaging/constraints\.txt", install)
    # tests/run.sh and .ci/run (hence the frozen build) install through dev-install.sh
    assert "packaging/dev-install.sh" in (ROOT / "tests" / "run.sh").read_text()


def test_the_installed_runtime_set_is_the_pinned_one():
    pins = _pins()
    dists, missing = licenses.runtime_set()
    assert not missing, f"required but not installed: {missing} (run packaging/dev-install.sh)"
    wrong = [f"{d.metadata['Name']} {d.version} (pinned {pins.get(licenses._norm(d.metadata['Name']))})"
             for d in dists if pins.get(licenses._norm(d.metadata["Name"])) != d.version]
    assert not wrong, "installed versions differ from packaging/constraints.txt: " + ", ".join(wrong)


def test_no_runtime_component_is_gpl_or_agpl_only():
    dists, _ = licenses.runtime_set()
    shipped = [licenses.describe(d) for d in dists]
    names = {licenses._norm(s.name) for s in shipped}
    assert "pylibjpeg-libjpeg" not in names and "imagecodecs" in names
    bad = [f"{s.name} {s.version}: {s.licence}" for s in shipped if s.copyleft_only]
    assert not bad, "copyleft-only components in a proprietary bundle: " + "; ".join(bad)
    undeclared = [s.name for s in shipped if not s.alternatives]
    assert not undeclared, f"no licence declared: {undeclared}"


def _dist(tmp_path, name: str, **fields) -> metadata.Distribution:
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.4", f"Name: {name}", "Version: 1.0"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in fields.items() if k != "classifiers"]
    lines += [f"Classifier: {c}" for c in fields.get("classifiers", ())]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    return metadata.PathDistribution(info)


def test_the_copyleft_rule(tmp_path):
    def only(**fields):
        return licenses.describe(_dist(tmp_path, f"d{len(list(tmp_path.iterdir()))}",
                                       **fields)).copyleft_only

    assert only(License_Expression="GPL-3.0-or-later")
    assert only(License_Expression="AGPL-3.0-only")
    assert only(classifiers=["License :: OSI Approved :: GNU General Public License v3 (GPLv3)"])
    assert not only(License_Expression="LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only")
    assert not only(License_Expression="MIT")
    assert not only(classifiers=["License :: OSI Approved :: GNU Lesser General Public "
                                 "License v3 (LGPLv3)"])
    assert not only(License_Expression="GPL-2.0-only OR MIT")


def test_the_bundle_ships_third_party_licenses(tmp_path):
    spec = (ROOT / "pacs_console.spec").read_text(encoding="utf-8")
    assert "THIRD-PARTY-LICENSES.txt" in spec and "licenses.main" in spec
    out = tmp_path / "THIRD-PARTY-LICENSES.txt"
    assert licenses.main(["licenses", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "pydicom" in text and "imagecodecs" in text and "BSD-3-Clause" in text
    assert "pylibjpeg-libjpeg" not in text
