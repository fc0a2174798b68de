"""Request Tracker 5 as a real helpdesk peer: fresh SQLite database, own site config, loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.peers.process import check_port_free, kill_group

RT_LIB = Path("/usr/share/request-tracker5/lib")
RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
SETUP_DATABASE = Path("/usr/sbin/rt-setup-database-5")

SITE_CONFIG = """\
Set($rtname, 'pacs-console.test');
Set($Organization, 'pacs-console.test');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{db}');
Set($DatabaseUser, '');
Set($DatabasePassword, '');
Set($WebDomain, '{host}');
Set($WebPort, {port});
Set($WebPath, '');
Set($WebBaseURL, 'http://{host}:{port}');
Set($MailCommand, 'mbox');
Set($LogToSyslog, undef);
Set($LogToSTDERR, 'warning');
Set($LogToFile, undef);
Set($Timezone, 'UTC');
Set($DisableGD, 1);
Set($DisableGraphViz, 1);
# RT checks the API token with bcrypt on every request: at the default cost 12 that is ~0.7 s
# per request on a busy 2-core machine. Test tokens need no such protection.
Set($BcryptCost, 4);
1;
"""

# The queue, the two custom fields sync writes, and an API user allowed to work the queue.
INITIAL_DATA = """\
@Queues = ({{ Name => '{queue}', Description => 'PACS Console sync tests',
              CorrespondAddress => '', CommentAddress => '' }});
@CustomFields = (
  {{ Name => 'IdempotencyKey', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
     Queue => ['{queue}'], Description => 'Sync idempotency key' }},
  {{ Name => 'DeviceTime', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
     Queue => ['{queue}'], Description => 'Original device time' }},
);
@Users = ({{ Name => '{user}', EmailAddress => '{user}@pacs-console.test',
             Privileged => 1, Password => '{password}' }},
          {{ Name => 'office', EmailAddress => 'office@pacs-console.test',
             Privileged => 1, Password => '{password}' }});
@ACL = (
  map({{ UserId => $_, Right => 'SuperUser' }}, 'office'),
  map({{ UserId => '{user}', Queue => '{queue}', Right => $_ }},
      qw(SeeQueue ShowTicket CreateTicket ModifyTicket CommentOnTicket ReplyToTicket
         ShowTicketComments SeeCustomField ModifyCustomField OwnTicket)),
);
1;
"""

TOKEN_SCRIPT = """\
use strict; use warnings;
use RT; RT::LoadConfig(); RT::Init();
my $user = RT::User->new(RT->SystemUser); $user->Load($ARGV[0]) or die "no user";
my $token = RT::AuthToken->new(RT->SystemUser);
my ($ok, $msg, $string) = $token->Create(Owner => $user->Id, Description => 'pacs-console tests');
die $msg unless $ok;
print "$string\\n";
"""


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class RequestTracker:
    """An rt-server child on ``host:port`` over a SQLite database made fresh by ``init()``."""

    name = "rt"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, queue: str = "PACS Field",
                 user: str = "pacsconsole") -> None:
        # Port 0: a free one, so two test sessions on one machine never collide.
        self.host, self.port, self.queue, self.user = host, port or _free_port(host), queue, user
        self.password = "field-test-password"
        self.workdir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.token = ""
        self.office_token = ""
        self.inserted: set[str] = set()  # initialdata loaded by insert(), by name

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _env(self) -> dict[str, str]:
        assert self.workdir is not None
        # Debian's RT_SiteConfig.d names a database that does not exist: an empty dir instead.
        return {**os.environ, "RT_SITE_CONFIG": str(self.workdir / "RT_SiteConfig.pm"),
                "RT_SITE_CONFIG_DIR": str(self.workdir / "site.d"), "PERL5LIB": str(RT_LIB)}

    def _run(self, *cmd: str, stdin: str | None = None) -> str:
        result = subprocess.run(cmd, env=self._env(), cwd=self.workdir, input=stdin,
                                capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                               f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return result.stdout

    def init(self) -> None:
        """A new work dir, config, database, queue, custom fields, users and REST tokens."""
        if not SETUP_DATABASE.exists():
            raise RuntimeError("Request Tracker is not installed: run tests/peers/install.sh as root")
        self.workdir = Path(tempfile.mkdtemp(prefix="pacs-rt-"))
        (self.workdir / "site.d").mkdir()
        (self.workdir / "RT_SiteConfig.pm").write_text(SITE_CONFIG.format(
            db=self.workdir / "rt.sqlite3", host=self.host, port=self.port))
        self._run(str(SETUP_DATABASE), "--action", "init", "--skip-create")
        self.inserted.clear()
        self.insert("base", INITIAL_DATA.format(queue=self.queue, user=self.user,
                                                password=self.password))
        script = self.workdir / "token.pl"
        script.write_text(TOKEN_SCRIPT)
        self.token = self._run("perl", f"-I{RT_LIB}", str(script), self.user).strip()
        self.office_token = self._run("perl", f"-I{RT_LIB}", str(script), "office").strip()

    def insert(self, name: str, initialdata: str) -> None:
        """Load an initialdata file with rt-setup-database, as an admin would; once per
        database for each ``name`` (what it sets up)."""
        if name in self.inserted:
            return
        data = self.workdir / f"{name}-initialdata.pl"
        data.write_text(initialdata)
        self._run(str(SETUP_DATABASE), "--action", "insert", "--datafile", str(data))
        self.inserted.add(name)

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        if self.workdir is None:
            self.init()
        check_port_free(self.host, self.port)
        log = open(self.workdir / "rt-server.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [str(RT_SERVER), "--server", "Starlet", "--host", self.host, "--port", str(self.port),
             "--max-workers", "4"],
            env=self._env(), cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rt-server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                answer = httpx.get(f"{self.url}/REST/2.0/queues/all", timeout=2.0,
                                   headers={"Authorization": f"token {self.token}"})
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"rt-server did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.workdir / "rt-server.log").read_text(
                errors="replace").splitlines()[-lines:])
        except (OSError, TypeError):
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None
        # The listening socket goes with the process; wait until the port is really free.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((self.host, self.port))
                    return
                except OSError:
                    time.sleep(0.05)

    def remove(self) -> None:
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # Helpers for assertions: the helpdesk as the office sees it (a superuser's token).
    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/REST/2.0", timeout=30.0,
                            headers={"Authorization": f"token {token or self.office_token}"})

    def tickets_with_key(self, key: str) -> list[int]:
        with self.client() as client:
            answer = client.get("/tickets", params={
                "query": f"CF.{{IdempotencyKey}} = '{key}'", "per_page": 100})
            answer.raise_for_status()
            return sorted(int(t["id"]) for t in answer.json()["items"])

    def all_tickets(self) -> dict[int, dict]:
        """id -> {Status, Subject, IdempotencyKey} for every ticket in the queue."""
        found: dict[int, dict] = {}
        with self.client() as client:
            page = 1
            while True:
                answer = client.get("/tickets", params={
                    "query": f"Queue = '{self.queue}'", "per_page": 100, "page": page,
                    "fields": "Status,Subject,CustomFields"})
                answer.raise_for_status()
                body = answer.json()
                for item in body["items"]:
                    found[int(item["id"])] = item
                if page >= int(body.get("pages") or 1):
                    return found
                page += 1
