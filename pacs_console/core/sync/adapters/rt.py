"""Request Tracker 5 over REST 2.0: keyed creates, comments with files, status, history."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import httpx

from pacs_console.core.models import Check
from pacs_console.core.sync.adapters.base import (
    Adapter,
    CheckReport,
    FilePart,
    HelpdeskConfig,
    HelpdeskError,
    RemoteChange,
    permanent,
    transient,
)

# Incident status -> RT's default lifecycle; RT status -> what it means for the incident.
_TO_RT = {"new": "new", "on_hold": "stalled", "resolved": "resolved", "closed": "resolved"}
_FROM_RT = {"open": "acknowledged", "stalled": "on_hold", "resolved": "resolved",
            "rejected": "closed", "deleted": "closed"}
PROBE_KEY = "pacs-console-connection-probe"
MAX_TEXT = 1_000_000  # characters of one ticket text read back


def _classify(exc: httpx.HTTPError, what: str) -> HelpdeskError:
    # Nothing was sent when the connection could not even be made: safe to simply retry.
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    code = "helpdesk-timeout" if isinstance(exc, httpx.TimeoutException) else "helpdesk-unreachable"
    return transient(code, f"{what}: {type(exc).__name__} {exc}".strip(), ambiguous=sent)


class RTAdapter(Adapter):
    def __init__(self, config: HelpdeskConfig, token: str,
                 client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx.Client(
            base_url=config.url.rstrip("/") + "/REST/2.0",
            headers={"Authorization": f"token {token}"}, timeout=config.timeout,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))

    def close(self) -> None:
        self.client.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, what: str, **kwargs) -> httpx.Response:
        try:
            answer = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _classify(exc, what) from exc
        if answer.status_code < 400:
            return answer
        status, url = answer.status_code, self.config.url
        body = answer.text[:300]
        if status == 401:
            raise permanent("helpdesk-unauthorized", f"{what}: the helpdesk refused the API token",
                            "Re-enter the helpdesk credentials (Sync panel or "
                            "`pacs-console helpdesk set`)", "the token is wrong, expired or "
                            "revoked", status=status, url=url, answer=body)
        if status == 403:
            raise permanent("helpdesk-forbidden", f"{what}: the helpdesk forbids it",
                            f"Check the queue name {self.config.queue!r} and that user "
                            f"{self.config.user!r} may create and comment there",
                            "the queue does not exist or the user lacks rights",
                            status=status, url=url, answer=body)
        if status == 404:
            raise permanent("helpdesk-not-found", f"{what}: not found on the helpdesk",
                            "Check that the ticket still exists (it may have been deleted)",
                            status=status, url=url, path=path, answer=body)
        if status in (400, 422):
            raise permanent("helpdesk-bad-request", f"{what}: the helpdesk rejected the request",
                            "Check the helpdesk settings (queue, custom field names)",
                            status=status, url=url, answer=body)
        if status in (408, 409, 412, 423, 425, 429) or status >= 500:
            raise transient("helpdesk-busy", f"{what}: HTTP {status}", ambiguous=True,
                            status=status, answer=body)
        raise permanent("helpdesk-http", f"{what}: unexpected HTTP {status}",
                        "Look at the helpdesk's logs", status=status, url=url, answer=body)

    @staticmethod
    def _messages(answer: httpx.Response) -> list[str]:
        try:
            body = answer.json()
        except ValueError:
            return [answer.text]
        if isinstance(body, list):
            return [str(m) for m in body]
        if isinstance(body, dict) and "message" in body:
            return [str(body["message"])]
        return []

    @staticmethod
    def _files(files) -> list[dict]:
        return [{"FileName": f.filename, "FileType": f.media_type,
                 "FileContent": base64.b64encode(f.content).decode()} for f in files]

    def _pages(self, path: str, what: str, params: dict) -> list[dict]:
        items, page = [], 1
        while True:
            body = self._call("GET", path, what,
                              params={**params, "per_page": 100, "page": page}).json()
            batch = body.get("items") or []
            items.extend(batch)
            # RT leaves 'pages' null on some collections: a short page is the last one.
            if len(batch) < 100 or (body.get("pages") and page >= int(body["pages"])):
                return items
            page += 1

    # -- tickets ------------------------------------------------------------------------------

    def find_by_key(self, key: str) -> list[str]:
        query = f"CF.{{{self.config.key_field}}} = '{key}'"
        items = self._pages("/tickets", "Searching the helpdesk for the sync key",
                            {"query": query, "fields": "Status"})
        return [str(i) for i in sorted({int(item["id"]) for item in items})]

    def create_ticket(self, key: str, subject: str, content: str, device_time: datetime,
                      files: list[FilePart] = ()) -> str:
        fields = {self.config.key_field: key}
        if self.config.time_field:
            fields[self.config.time_field] = device_time.astimezone(UTC).isoformat()
        body = {"Queue": self.config.queue, "Subject": subject, "Content": content,
                "ContentType": "text/plain", "CustomFields": fields}
        if files:
            body["Attachments"] = self._files(files)
        answer = self._call("POST", "/ticket", "Creating the ticket", json=body)
        ticket = str((answer.json() or {}).get("id") or "")
        if not ticket:
            raise permanent("helpdesk-create-unconfirmed", "The helpdesk did not confirm the "
                            "new ticket", "Look at the helpdesk's logs",
                            answer=answer.text[:300])
        self._verify_fields(ticket, fields)
        return ticket

    def _verify_fields(self, ticket: str, fields: dict[str, str]) -> None:
        """RT answers 201 and drops values it will not store: read them back."""
        answer = self._call("GET", f"/ticket/{ticket}", "Reading the new ticket back")
        stored = {cf.get("name"): cf.get("values") or []
                  for cf in answer.json().get("CustomFields") or []}
        dropped = [name for name, value in fields.items() if value not in stored.get(name, [])]
        if dropped:
            raise permanent("helpdesk-field-dropped",
                            f"Ticket {ticket} was created but the helpdesk dropped "
                            f"{', '.join(dropped)}",
                            f"Ask the helpdesk admin to add the ticket custom field(s) "
                            f"{', '.join(dropped)} (free-form, single value) to queue "
                            f"{self.config.queue!r} and let user {self.config.user!r} modify "
                            "them", "the custom field is missing, not applied to the queue, or "
                            "not writable for the API user", ticket=ticket)

    def merge(self, keep: str, duplicates: list[str]) -> None:
        for ticket in duplicates:
            answer = self._call("PUT", f"/ticket/{ticket}", f"Merging duplicate ticket {ticket}",
                                json={"MergeInto": keep})
            # A merged ticket reads back as the one it went into.
            now = self._call("GET", f"/ticket/{ticket}", f"Reading ticket {ticket}").json()
            if str((now.get("EffectiveId") or {}).get("id") or now.get("id")) != str(keep):
                raise permanent("helpdesk-merge", f"Could not merge ticket {ticket} into {keep}",
                                "Merge them by hand on the helpdesk",
                                answer="; ".join(self._messages(answer))[:300])

    def has_update(self, ticket: str, key: str) -> bool:
        items = self._pages(f"/ticket/{ticket}/attachments", "Looking for an earlier delivery",
                            {"fields": "Subject"})
        return any(key in (item.get("Subject") or "") for item in items)

    def comment(self, ticket: str, key: str, subject: str, text: str,
                files: list[FilePart] = ()) -> None:
        # The key in the subject makes a delivery findable when its answer was lost.
        body = {"Subject": f"{subject} [sync {key}]", "Content": text,
                "ContentType": "text/plain"}
        if files:
            body["Attachments"] = self._files(files)
        answer = self._call("POST", f"/ticket/{ticket}/comment", f"Commenting on ticket {ticket}",
                            json=body)
        messages = self._messages(answer)
        if not any("comment" in m.lower() and "added" in m.lower() for m in messages):
            raise permanent("helpdesk-comment-refused", f"Ticket {ticket} did not take the comment",
                            "Check the API user's CommentOnTicket right on the queue",
                            answer="; ".join(messages)[:300])

    def set_status(self, ticket: str, status: str) -> str:
        answer = self._call("PUT", f"/ticket/{ticket}", f"Setting ticket {ticket} to {status}",
                            json={"Status": status})
        messages = self._messages(answer)
        # RT answers 200 both for a change and for "isn't a valid status": trust only the ticket.
        now = self.status_of(ticket)
        if now != status:
            raise permanent("helpdesk-status-refused",
                            f"Ticket {ticket} stayed {now!r} instead of {status!r}",
                            "Check the queue's lifecycle and the API user's ModifyTicket right",
                            answer="; ".join(messages)[:300])
        return now

    def status_of(self, ticket: str) -> str:
        answer = self._call("GET", f"/ticket/{ticket}", f"Reading ticket {ticket}")
        return str(answer.json().get("Status") or "")

    def changes(self, ticket: str, after: int) -> list[RemoteChange]:
        items = self._pages(f"/ticket/{ticket}/history", f"Reading ticket {ticket}'s history",
                            {"fields": "Type,Creator,Created,OldValue,NewValue,Field"})
        found = []
        for item in items:
            remote_id = int(item["id"])
            author = str((item.get("Creator") or {}).get("id") or "")
            if remote_id <= after or author in (self.config.user, "RT_System"):
                continue
            kind, at = item.get("Type"), _rt_time(item.get("Created"))
            if kind == "Status":
                found.append(RemoteChange(remote_id, "status", at, author,
                                          from_status=item.get("OldValue") or "",
                                          to_status=item.get("NewValue") or ""))
            elif kind in ("Correspond", "Comment"):
                found.append(RemoteChange(remote_id, "reply" if kind == "Correspond" else "comment",
                                          at, author, self._transaction_text(remote_id)))
        return sorted(found, key=lambda c: c.remote_id)

    def updated_since(self, when: datetime) -> set[str] | None:
        # TicketSQL dates are in the server's or user's time zone: 14 h of margin covers any.
        since = (when - timedelta(hours=14)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        query = f"Queue = '{self.config.queue}' AND LastUpdated > '{since}'"
        items = self._pages("/tickets", "Looking for changed tickets",
                            {"query": query, "fields": "LastUpdated"})
        return {str(item["id"]) for item in items}

    def texts(self, ticket: str) -> list[str]:
        items = self._pages(f"/ticket/{ticket}/attachments", f"Reading ticket {ticket}'s texts",
                            {"fields": "Content,ContentType,Filename"})
        return [str(i.get("Content") or "")[:MAX_TEXT] for i in items
                if i.get("ContentType") == "text/plain" and not i.get("Filename")]

    def _transaction_text(self, transaction: int) -> str:
        items = self._pages(f"/transaction/{transaction}/attachments", "Reading a reply",
                            {"fields": "Content,ContentType,Filename"})
        texts = [str(i.get("Content") or "") for i in items
                 if i.get("ContentType") == "text/plain" and not i.get("Filename")]
        return "\n".join(t.strip() for t in texts if t.strip())

    def local_status(self, remote: str) -> str | None:
        return _FROM_RT.get(remote)

    def remote_status(self, local: str) -> str:
        return _TO_RT.get(local, "open")

    # -- connection test ----------------------------------------------------------------------

    def check(self) -> CheckReport:
        started, checks = time.perf_counter(), []

        def report(diagnosis=None) -> CheckReport:
            return CheckReport(tuple(checks), diagnosis, (time.perf_counter() - started) * 1000)

        try:
            self._call("GET", "/queues/all", "Signing in to the helpdesk")
            checks.append(Check("credentials", True, f"signed in as {self.config.user or '?'}"))
            queue = self._call("GET", f"/queue/{self.config.queue}",
                               f"Opening queue {self.config.queue!r}").json()
        except HelpdeskError as exc:
            if exc.diagnosis.code == "helpdesk-forbidden" and checks:
                exc = permanent("helpdesk-queue-unknown", f"Queue {self.config.queue!r} does not "
                                "exist or user cannot see it", "Fix the queue name (exactly as on "
                                "the helpdesk) or ask for SeeQueue/CreateTicket rights",
                                queue=self.config.queue)
            checks.append(Check("queue" if checks else "credentials", False, exc.diagnosis.what))
            return report(exc.diagnosis)
        links = {h.get("ref") for h in queue.get("_hyperlinks") or []}
        checks.append(Check("queue", "create" in links,
                            f"{queue.get('Name')!r} (id {queue.get('id')})"
                            + ("" if "create" in links else ": no CreateTicket right")))
        names = {cf.get("name") for cf in queue.get("TicketCustomFields") or []}
        wanted = [n for n in (self.config.key_field, self.config.time_field) if n]
        missing = [n for n in wanted if n not in names]
        checks.append(Check("custom fields", not missing,
                            "present: " + ", ".join(wanted) if not missing
                            else "missing on the queue: " + ", ".join(missing)))
        if missing or "create" not in links:
            return report(permanent(
                "helpdesk-field-missing" if missing else "helpdesk-forbidden",
                "The queue is not ready for sync: " + checks[-1 if missing else -2].detail,
                f"Ask the helpdesk admin to apply free-form ticket custom fields "
                f"{', '.join(wanted)} to queue {self.config.queue!r} and to let "
                f"{self.config.user!r} create tickets and modify those fields").diagnosis)
        try:
            checks.append(Check("writable", True, self._probe()))
        except HelpdeskError as exc:
            checks.append(Check("writable", False, exc.diagnosis.what))
            return report(exc.diagnosis)
        return report()

    def _probe(self) -> str:
        """Write the custom fields on one probe ticket (made once, then reused) and read back."""
        found = self.find_by_key(PROBE_KEY)
        now = datetime.now(UTC)
        if not found:
            ticket = self.create_ticket(PROBE_KEY, "PACS Console connection test (safe to ignore)",
                                        "Made once by `helpdesk test` to prove the sync custom "
                                        "fields are writable.", now)
            self.set_status(ticket, "rejected")
            return f"probe ticket {ticket} created with both fields stored"
        ticket = found[0]
        fields = {self.config.time_field: now.isoformat()} if self.config.time_field else {
            self.config.key_field: PROBE_KEY}
        self._call("PUT", f"/ticket/{ticket}", "Writing the probe ticket's custom fields",
                   json={"CustomFields": fields})
        self._verify_fields(ticket, fields)
        return f"custom fields written and read back on probe ticket {ticket}"


def _rt_time(text: str | None) -> datetime:
    try:
        return datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)
