"""Run a DemoPacs in its own process (so its Python threads do not share the GUI's GIL).

`python -m tests.bench.demo_server STUDIES` prints "PORT <n>" when ready and serves until
its standard input closes.
"""

from __future__ import annotations

import sys

from tests.bench.gui_find import make_studies


def main() -> None:
    from pacs_console.core.dicom.servers.demo import DemoPacs

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    demo = DemoPacs(port=0, studies=make_studies(count), worklist=[]).start()
    print(f"PORT {demo.port}", flush=True)
    sys.stdin.read()
    demo.stop()


if __name__ == "__main__":
    main()
