"""Build the LD_PRELOAD bind shim (bindshim.c) with gcc once and cache it under .build/."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "bindshim.c"
BUILD_DIR = HERE / ".build"
LIBRARY = BUILD_DIR / "libbindshim.so"


def bind_shim() -> Path:
    """Return the path of the compiled shim, rebuilding it when the C source is newer."""
    if LIBRARY.exists() and LIBRARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return LIBRARY
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc not found: run tests/peers/install.sh (needs gcc and libc6-dev)")
    BUILD_DIR.mkdir(exist_ok=True)
    # Compile to a temp name and rename: parallel sessions never load a half-written .so.
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=BUILD_DIR)
    os.close(fd)
    cmd = [gcc, "-shared", "-fPIC", "-O2", "-Wall", "-o", tmp, str(SOURCE), "-ldl"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        os.unlink(tmp)
        raise RuntimeError(f"building the bind shim failed:\n{result.stderr}")
    os.replace(tmp, LIBRARY)
    return LIBRARY
