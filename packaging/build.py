"""Build the one-folder app with PyInstaller, check its size, optionally tar it and smoke-test it.

    python packaging/build.py                 # build dist/pacs-console/ (incremental)
    python packaging/build.py --smoke         # build, then --self-check and the headless smoke test
    python packaging/build.py --no-build --smoke   # smoke-test the existing build
    python packaging/build.py --tarball       # also dist/pacs-console-VERSION-linux-ARCH.tar.gz
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "pacs-console"
SIZE_LIMIT_MB = 250


def exe_path(dist: Path) -> Path:
    suffix = ".exe" if sys.platform == "win32" else ""
    if sys.platform == "darwin":
        return dist / "PACS Console.app" / "Contents" / "MacOS" / NAME
    return dist / NAME / f"{NAME}{suffix}"


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def dropped_still_needed(folder: Path, fragments: list[str]) -> list[str]:
    """Bundled ELF files that link a library the spec dropped (readelf's NEEDED entries)."""
    if not sys.platform.startswith("linux") or not shutil.which("readelf"):
        return []
    problems = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink() or not (".so" in path.name or path.name == NAME):
            continue
        proc = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            if "(NEEDED)" in line:
                lib = line.rsplit("[", 1)[-1].rstrip("]")
                if any(f in lib for f in fragments if not f.endswith("/")):
                    problems.append(f"{path.relative_to(folder)} needs {lib}")
    return problems


def build(dist: Path, work: Path, clean: bool) -> float:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("PyInstaller is missing: pip install -e '.[build]' "
                         "(bash packaging/dev-install.sh --build)") from None
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(ROOT / "pacs_console.spec")]
    if clean:
        cmd.insert(3, "--clean")
    print("build:", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - start


def tarball(dist: Path, version: str) -> Path:
    """pacs-console-VERSION/{pacs-console/, pacs-console.desktop, install.sh, README.txt}."""
    arch = platform.machine().lower() or "x86_64"
    top = f"{NAME}-{version}"
    out = dist / f"{top}-linux-{arch}.tar.gz"
    linux = ROOT / "packaging" / "linux"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(dist / NAME, arcname=f"{top}/{NAME}")
        tar.add(linux / "pacs-console.desktop", arcname=f"{top}/pacs-console.desktop")
        tar.add(ROOT / "resources" / "icons" / "pacs-console.png", arcname=f"{top}/pacs-console.png")
        tar.add(linux / "install.sh", arcname=f"{top}/install.sh")
        tar.add(linux / "README.txt", arcname=f"{top}/README.txt")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python packaging/build.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true",
                        help="after building, run the frozen app's --self-check and smoke test")
    parser.add_argument("--no-build", action="store_true", help="reuse the existing build")
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache first")
    parser.add_argument("--tarball", action="store_true", help="also make the Linux tarball")
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder (default dist/)")
    parser.add_argument("--work", default=str(ROOT / "build"),
                        help="PyInstaller's work folder (default build/)")
    args = parser.parse_args(argv)
    for folder in (ROOT, ROOT / "packaging"):  # the package, and spec_support/smoke beside us
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    from spec_support import EXCLUDED_BINARIES, app_version

    dist, work = Path(args.dist).resolve(), Path(args.work).resolve()
    seconds = None
    if not args.no_build:
        seconds = build(dist, work, args.clean)
    exe = exe_path(dist)
    if not exe.exists():
        print(f"build: no frozen app at {exe}; run without --no-build", file=sys.stderr)
        return 1
    size_mb = folder_size(dist / NAME) / 1e6
    files = sum(1 for p in (dist / NAME).rglob("*") if p.is_file())
    print(f"build: {dist / NAME}: {size_mb:.0f} MB in {files} files"
          + (f", built in {seconds:.0f} s" if seconds is not None else ""), flush=True)
    failures = 0
    if size_mb > SIZE_LIMIT_MB:
        print(f"build: FAIL: {size_mb:.0f} MB is over the {SIZE_LIMIT_MB} MB limit", flush=True)
        failures += 1
    for problem in dropped_still_needed(dist / NAME, EXCLUDED_BINARIES):
        print(f"build: FAIL: {problem} (dropped by packaging/spec_support.py)", flush=True)
        failures += 1
    if args.tarball and sys.platform.startswith("linux"):
        start = time.perf_counter()
        out = tarball(dist, app_version(ROOT))
        print(f"build: {out} ({out.stat().st_size / 1e6:.0f} MB, "
              f"{time.perf_counter() - start:.0f} s)", flush=True)
    if args.smoke:
        from smoke import run_smoke

        failures += run_smoke(exe)
    return 1 if failures else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
