"""Visit report: a 20-page report with charts laid out, signed (PAdES) and verified."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from tests.bench.runner import Case

_state: dict = {}


def _setup() -> None:
    import keyring

    from pacs_console.core.reports.certs import PASSPHRASE_KEY, load_signer
    from pacs_console.core.reports.sample import sample_report
    from pacs_console.core.secrets import SecretStore
    from tests.memkeyring import MemoryKeyring

    # Never the developer's real keyring: the benchmark's certificate is thrown away.
    _state["keyring"] = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    folder = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    store = SecretStore()
    store.set(PASSPHRASE_KEY, "bench passphrase")
    load_signer(folder, store, engineer="Kwabena Ɔfori-Mɛnsah", organisation="Ɔdɔ Medical")
    _state.update(folder=folder, store=store, report=sample_report(scale=9))


def _teardown() -> None:
    import keyring

    keyring.set_keyring(_state.pop("keyring"))
    shutil.rmtree(_state.pop("folder"), ignore_errors=True)


def _build_and_sign() -> dict[str, float]:
    from pacs_console.core.reports.certs import load_signer
    from pacs_console.core.reports.pdf import render_pdf
    from pacs_console.core.reports.sign import sign_report
    from pacs_console.core.reports.verify import verify_bytes

    report = _state["report"]
    c0 = time.process_time()  # the machine is shared: CPU time shows our own cost
    t0 = time.perf_counter()
    rendered = render_pdf(report)
    t1 = time.perf_counter()
    signer, info = load_signer(_state["folder"], _state["store"])
    pdf, _ = sign_report(rendered, signer, info, engineer=report.engineer,
                         organisation=report.organisation, location=report.site)
    t2 = time.perf_counter()
    cpu = time.process_time() - c0
    (_state["folder"] / "bench.pdf").write_bytes(pdf)
    result = verify_bytes(pdf)
    t3 = time.perf_counter()
    assert result.ok and rendered.pages >= 20, (rendered.pages, result.text())
    charts = sum(len(t.latency_series_ms) > 1 for t in report.test_runs) + 2
    return {"build_and_sign_s": t2 - t0, "layout_s": t1 - t0, "sign_s": t2 - t1, "cpu_s": cpu,
            "verify_s": t3 - t2, "pages": float(rendered.pages), "charts": float(charts),
            "pdf_kb": len(pdf) / 1024}


def cases() -> list[Case]:
    return [Case("report: 20-page visit report with charts, built and signed",
                 _build_and_sign, "build_and_sign_s", 2.0, repeat=5, setup=_setup,
                 teardown=_teardown)]
