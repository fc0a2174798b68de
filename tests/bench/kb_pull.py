"""Benchmark: a laptop's first sync pulls 1,000 articles and 2,000 site assets from a real RT,
against a plain httpx loop fetching exactly the same pages, in the same run.

The articles and assets are seeded with RT's own Perl API (one database transaction, custom
field values without history entries, which a pull never reads), the way a
helpdesk that has served a team for a while holds them; each repetition pulls them into a
fresh console data folder through `helpdesk.sync_once` (the code `pacs-console sync` runs)."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.runner import Case

ARTICLES, ASSETS = 1000, 2000
_STATE: dict = {}
SEED = r"""
use strict; use warnings;
use RT; RT::LoadConfig(); RT::Init();
my ($articles, $assets, $class_name, $catalog_name) = @ARGV;
my $class = RT::Class->new(RT->SystemUser); $class->Load($class_name) or die "no class";
my $catalog = RT::Catalog->new(RT->SystemUser); $catalog->Load($catalog_name) or die "no catalog";
$RT::Handle->BeginTransaction;
for my $n (1 .. $articles) {
    my $article = RT::Article->new(RT->SystemUser);
    my ($id, $msg) = $article->Create(Class => $class->Id, Name => "Bench article $n",
                                      Summary => "Bench article $n");
    die $msg unless $id;
    my %values = (ArticleKey => sprintf("00000000-0000-4000-8000-%012d", $n),
                  Symptoms => "Store to the archive times out after $n s",
                  Fix => "Raise the DIMSE timeout; check the switch port $n",
                  Codes => "dimse-timeout", Vendor => "Orthanc project", Site => "Site " . ($n % 40));
    $article->AddCustomFieldValue(Field => $_, Value => $values{$_}, RecordTransaction => 0)
        for sort keys %values;
}
for my $n (1 .. $assets) {
    my $asset = RT::Asset->new(RT->SystemUser);
    my ($id, $msg) = $asset->Create(Catalog => $catalog->Id, Name => "Bench node $n");
    die $msg unless $id;
    my %values = (AssetKey => sprintf("00000000-0000-4000-9000-%012d", $n),
                  Site => "Bench site " . ($n % 50), AETitle => "BENCH$n", Host => "127.0.0.1",
                  Port => 10000 + $n, Role => "modality", Vendor => "OFFIS DCMTK");
    $asset->AddCustomFieldValue(Field => $_, Value => $values{$_}, RecordTransaction => 0)
        for sort keys %values;
}
$RT::Handle->Commit;
print "seeded\n";
"""


def _setup() -> None:
    from tests.core.kb.rt_articles import ARTICLE_CLASS, add_article_class
    from tests.core.sync.rt_assets import CATALOG, add_asset_catalog
    from tests.peers.rt import RT_LIB, RequestTracker

    peer = RequestTracker()
    peer.start()
    add_article_class(peer)
    add_asset_catalog(peer)
    script = peer.workdir / "seed.pl"
    script.write_text(SEED)
    began = time.perf_counter()
    _STATE.update(peer=peer)
    # RT's own API, in-process: slow (every custom field value is a transaction) but once.
    subprocess.run(["perl", f"-I{RT_LIB}", str(script), str(ARTICLES), str(ASSETS),
                    ARTICLE_CLASS, CATALOG], env=peer._env(), cwd=peer.workdir, check=True,
                   capture_output=True, timeout=3600)
    print(f"seeded {ARTICLES:,} articles and {ASSETS:,} assets in "
          f"{time.perf_counter() - began:.1f} s")


def _teardown() -> None:
    peer = _STATE.pop("peer", None)
    if peer is not None:
        peer.remove()


def _first_sync(peer) -> tuple[float, list[str], object]:
    """A fresh laptop's first sync; returns its time and the GET URLs it fetched."""
    from pacs_console.core.context import Context
    from pacs_console.core.models import drain
    from pacs_console.core.sync import helpdesk
    from pacs_console.core.sync.adapters.base import HelpdeskConfig
    from pacs_console.paths import app_paths

    ctx = Context.open(app_paths(Path(tempfile.mkdtemp(prefix="bench-pull-"))).ensure())
    helpdesk.save_config(ctx, HelpdeskConfig(kind="rt", url=peer.url, queue=peer.queue,
                                             user=peer.user, timeout=60.0), peer.token)
    fetched: list[str] = []
    original = httpx.Client.send

    def send(self, request, **kwargs):  # records what the sync fetched, changes nothing
        if request.method == "GET":
            fetched.append(str(request.url))
        return original(self, request, **kwargs)

    httpx.Client.send = send
    try:
        began = time.perf_counter()
        result = drain(helpdesk.sync_once(ctx))
        elapsed = time.perf_counter() - began
    finally:
        httpx.Client.send = original
        ctx.close()
    return elapsed, fetched, result


def _plain_loop(peer, urls: list[str]) -> float:
    """The same pages, one after another, with httpx and nothing else."""
    with httpx.Client(timeout=60.0, headers={"Authorization": f"token {peer.token}"}) as client:
        began = time.perf_counter()
        for url in urls:
            client.get(url).raise_for_status()
        return time.perf_counter() - began


def _run() -> dict[str, float]:
    peer = _STATE["peer"]
    sync_s, urls, result = _first_sync(peer)
    received = result.articles.received if result.articles else 0
    nodes = result.inventory.received if result.inventory else 0
    if received != ARTICLES or nodes != ASSETS:
        raise RuntimeError(f"pulled {received} articles and {nodes} assets, expected "
                           f"{ARTICLES} and {ASSETS}")
    loop_s = _plain_loop(peer, urls)
    return {"first_sync_s": sync_s, "httpx_loop_s": loop_s, "ratio": sync_s / loop_s,
            "pages": float(len(urls))}


def cases() -> list[Case]:
    return [Case(f"First sync pulls {ARTICLES:,} articles and {ASSETS:,} assets vs a plain "
                 "httpx loop over the same pages", _run, "first_sync_s", target=1.2, unit="s",
                 ratio=True, peer_metric="httpx_loop_s", peer_name="httpx loop, same pages",
                 setup=_setup, teardown=_teardown)]
