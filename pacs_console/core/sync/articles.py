"""Knowledge articles both ways with the helpdesk: exactly once out, edits back, conflicts kept.

Durable by construction: an article's own row says what is still to send (sync_state
'pending'), so an article written offline, or a sync killed half-way, is sent by the next
sync. Exactly once: the helpdesk is searched for the article's key (its UUID) before any
create, so a create whose answer was lost is found, not repeated; of duplicates the lowest
id is kept. Pulls are incremental on the helpdesk's own LastUpdated clock. An article changed
here and there since the last sync becomes a conflict with both versions kept side by side.
"""

from __future__ import annotations

import hashlib
import json
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pacs_console.core.db.engine import Database
from pacs_console.core.kb.model import Article, ArticleProblem
from pacs_console.core.kb.store import (
    create_article,
    create_articles,
    get_article,
    update_article,
)
from pacs_console.core.models import Plain
from pacs_console.core.sync import mirror
from pacs_console.core.sync.adapters.base import HelpdeskError
from pacs_console.core.sync.adapters.rt_articles import FIELDS, RemoteArticle, RTArticles


@dataclass
class ArticleSyncResult(Plain):
    sent: int = 0
    received: int = 0
    conflicts: int = 0
    duplicates_found: int = 0
    errors: list[dict] = field(default_factory=list)


def _mark(db: Database, article_id: int, **values) -> None:
    assignments = ", ".join(f"{name} = ?" for name in values)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE kb_article SET {assignments} WHERE id = ?",
                                   (*values.values(), article_id))


def _digest(title: str, fields: dict, codes, attachments) -> str:
    """What an article says, as one digest: RT's LastUpdated has whole seconds, so two edits
    in one second look alike by time; by content they never do."""
    data = {"title": title.strip(), **{k: (v or "").strip() for k, v in sorted(fields.items())},
            "codes": " ".join(c.lower() for c in codes),
            "attachments": "\n".join(a for a in attachments if a)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _remote_digest(item: RemoteArticle) -> str:
    return _digest(item.title, item.fields, item.codes, item.attachments)


def _local_digest(article: Article) -> str:
    return _digest(article.title, {name: getattr(article, name) for name in FIELDS},
                   article.codes, article.attachments)


def _base_digest(db: Database, article_id: int) -> str:
    return mirror.rows(db, "SELECT remote_digest FROM kb_article WHERE id = ?", (article_id,))[0][0]


def _synced(db: Database, article_id: int, item: RemoteArticle, *, pulled: bool = True) -> None:
    """Both sides agree on ``item``. Only a pull moves the pull's watermark (remote_updated):
    an article sent before the first pull is newer than the team's older articles, which the
    pull must still fetch."""
    stamp = {"remote_updated": mirror.stamp(item)} if pulled else {}
    _mark(db, article_id, sync_state="synced", remote_digest=_remote_digest(item),
          remote_synced_at=datetime.now(UTC).isoformat(), **stamp)


def _conflict(db: Database, article_id: int, item: RemoteArticle) -> None:
    """Keep the local version, and the helpdesk's beside it for the engineer to reconcile."""
    _mark(db, article_id, sync_state="conflict", remote_id=item.id,
          remote_copy=json.dumps({"title": item.title, **item.fields, "codes": list(item.codes),
                                  "attachments": list(item.attachments),
                                  "updated_at": mirror.stamp(item)}))


def push(db: Database, remote: RTArticles, result: ArticleSyncResult) -> None:
    """Send every pending article; search by key before creating. An article the helpdesk
    changed since this laptop last saw it is not overwritten: it becomes a conflict."""
    for (article_id,) in mirror.rows(db, "SELECT id FROM kb_article WHERE sync_state = 'pending' "
                                   "ORDER BY id"):
        article = get_article(db, article_id)
        try:
            remote_id = article.remote_id
            if not remote_id:
                found = remote.find(article.uuid)
                result.duplicates_found += max(0, len(found) - 1)
                if found:
                    remote_id = found[0]
                    remote.update(remote_id, article)
                else:
                    remote_id = remote.create(article)
                _mark(db, article_id, remote_id=remote_id)  # before anything else can fail
            else:
                current = remote.get(remote_id)
                theirs, ours = _remote_digest(current), _local_digest(article)
                base = _base_digest(db, article_id)  # '' when a sync died before confirming
                # Changed there since we last saw it: never overwrite, keep both.
                if theirs != ours and theirs != (base or ours):
                    _conflict(db, article_id, current)
                    result.conflicts += 1
                    continue
                if theirs != ours:
                    remote.update(remote_id, article)
            fresh = remote.get(remote_id)
        except HelpdeskError as exc:
            result.errors.append({"article": article_id, **exc.diagnosis.to_dict()})
            continue  # still pending: the next sync tries again (searching first)
        _synced(db, article_id, fresh, pulled=False)
        result.sent += 1


def _local_for(db: Database, item: RemoteArticle) -> int | None:
    rows = mirror.rows(db, "SELECT id FROM kb_article WHERE remote_id = ? OR (uuid = ? AND ? != '') "
                     "ORDER BY id LIMIT 1", (item.id, item.key, item.key))
    return rows[0][0] if rows else None


def _key(item: RemoteArticle, base_url: str) -> str:
    try:
        return str(uuid_module.UUID(item.key))
    except ValueError:  # written in the helpdesk itself: a stable UUID from its address
        return str(uuid_module.uuid5(uuid_module.NAMESPACE_URL, f"{base_url}/article/{item.id}"))


def _as_article(item: RemoteArticle, base_url: str) -> Article:
    return Article(title=item.title or f"Helpdesk article {item.id}", codes=item.codes,
                   attachments=item.attachments, origin="helpdesk", uuid=_key(item, base_url),
                   remote_id=item.id, sync_state="synced", **item.fields)


def pull(db: Database, remote: RTArticles, result: ArticleSyncResult, *,
         base_url: str = "") -> None:
    """Articles created or edited on the helpdesk (or by another laptop) since the last pull."""
    items = mirror.changed_since_last_pull(db, "kb_article", remote, result.errors)
    if items is None:
        return
    batch: dict[str, tuple[Article, RemoteArticle]] = {}
    later: list[RemoteArticle] = []
    for item in items:
        if _local_for(db, item) is not None:
            _pull_one(db, remote, item, result, base_url)
            continue
        try:
            incoming = _as_article(item, base_url).cleaned()
        except ArticleProblem as exc:
            result.errors.append({"remote_article": item.id, "what": str(exc)})
            continue
        if incoming.uuid in batch:  # the same key twice: the second meets the first below
            later.append(item)
        else:
            batch[incoming.uuid] = (incoming, item)
    _add_new(db, remote, list(batch.values()), result)
    for item in later:
        _pull_one(db, remote, item, result, base_url)


def _add_new(db: Database, remote: RTArticles, new: list[tuple[Article, RemoteArticle]],
             result: ArticleSyncResult) -> None:
    """Articles never seen here (a first sync: a team's whole knowledge) in one transaction,
    then marked synced in one more; each one's files fetched after."""
    if not new:
        return
    create_articles(db, [incoming for incoming, _ in new])
    now = datetime.now(UTC).isoformat()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE kb_article SET sync_state = 'synced', remote_updated = ?, remote_digest = ?, "
            "remote_synced_at = ? WHERE uuid = ?",
            [(mirror.stamp(item), _remote_digest(item), now, incoming.uuid) for incoming, item in new])
    for incoming, item in new:
        _fetch_files(remote, incoming.attachments, item, result)
    result.received += len(new)


def _pull_one(db: Database, remote: RTArticles, item: RemoteArticle, result: ArticleSyncResult,
              base_url: str) -> None:
    local_id = _local_for(db, item)
    try:
        incoming = _as_article(item, base_url).cleaned()
    except ArticleProblem as exc:
        result.errors.append({"remote_article": item.id, "what": str(exc)})
        return
    if local_id is None:
        made = create_article(db, incoming)
        _synced(db, made.id, item)
        _fetch_files(remote, made.attachments, item, result)
        result.received += 1
        return
    local = get_article(db, local_id)
    if _base_digest(db, local_id) == _remote_digest(item):
        _mark(db, local_id, remote_updated=mirror.stamp(item))  # the watermark passes it
        return  # the version we have (often our own push coming back)
    if local.sync_state != "synced" and _local_digest(local) == _remote_digest(item):
        _synced(db, local_id, item)  # both sides say the same
        return
    if local.sync_state in ("pending", "conflict"):
        _conflict(db, local_id, item)  # refreshes the helpdesk's side of a known conflict
        result.conflicts += local.sync_state == "pending"
        return
    update_article(db, local_id, title=incoming.title, codes=incoming.codes,
                   attachments=incoming.attachments, sync_state="synced",
                   **{name: getattr(incoming, name) for name in item.fields})
    _synced(db, local_id, item)
    _fetch_files(remote, incoming.attachments, item, result)
    result.received += 1


def _fetch_files(remote: RTArticles, attachments, item: RemoteArticle,
                 result: ArticleSyncResult) -> None:
    """The files an article lists that this laptop does not have yet, from the Files field;
    each is checked against the digest the article names (and scrubbed like a local one)."""
    from pacs_console.core.kb import files

    if remote.files_dir is None:
        return
    urls = dict(item.files)
    for listed in attachments:
        name, sha = files.parse(listed)
        if sha is None or files.read(remote.files_dir, listed) is not None:
            continue
        if name not in urls:
            result.errors.append({"remote_article": item.id, "what": f"Article file {name} is "
                                  "listed but not in the helpdesk's Files field (yet)"})
            continue
        try:
            data = remote.download(urls.get(name, ""), files.MAX_FILE)
            kept = files.checked(name, data, confirm_no_phi=True)  # confirmed where attached
        except HelpdeskError as exc:
            result.errors.append({"remote_article": item.id, **exc.diagnosis.to_dict()})
            continue
        except ArticleProblem as exc:
            result.errors.append({"remote_article": item.id, "what": str(exc)})
            continue
        if hashlib.sha256(kept).hexdigest() != sha:
            result.errors.append({"remote_article": item.id, "what": f"Article file {name} "
                                  "on the helpdesk is not the one the article names"})
            continue
        files.store(remote.files_dir, kept)


def sync_articles(db: Database, remote: RTArticles, *, base_url: str = "") -> ArticleSyncResult:
    """Send first (so our own edits are not mistaken for the office's), then pull."""
    result = ArticleSyncResult()
    push(db, remote, result)
    pull(db, remote, result, base_url=base_url)
    return result


def unsent(db: Database) -> dict[str, int]:
    """Articles not at the helpdesk yet: written or edited here and not sent
    (``articles_pending``), or changed on both sides and waiting for the engineer
    (``articles_conflict``). Counted with the outbox wherever "delivered" is claimed."""
    found = dict(mirror.rows(db, "SELECT sync_state, count(*) FROM kb_article WHERE sync_state IN "
                           "('pending', 'conflict') GROUP BY sync_state"))
    return {"articles_pending": int(found.get("pending", 0)),
            "articles_conflict": int(found.get("conflict", 0))}


def conflict_copy(db: Database, article_id: int) -> dict | None:
    """The helpdesk's version of a conflicting article, to show beside the local one."""
    rows = mirror.rows(db, "SELECT remote_copy FROM kb_article WHERE id = ? AND sync_state = 'conflict'",
                 (article_id,))
    if not rows or rows[0][0] is None:
        return None
    value = rows[0][0]
    return json.loads(value) if isinstance(value, str) else value


def describe(db: Database, article: Article, *, reference: bool = True) -> str:
    """The article as text, with the fields that differ from the helpdesk's version side by
    side when they conflict, and the two ways out (``reference``: with its UUID)."""
    text = article.text(reference)
    rows = side_by_side(db, article)
    if rows:
        text += ("\n\nCONFLICT: changed here and on the helpdesk since the last sync. "
                 "Field by field (here | on the helpdesk):\n")
        for name, mine, theirs in rows:
            text += f"  {name}:\n    here:     {_one_line(mine)}\n    helpdesk: {_one_line(theirs)}\n"
        text += (f"Resolve: pacs-console kb resolve {article.id} --keep-mine (send this one) "
                 "or --take-theirs (keep the helpdesk's)")
    return text


def _one_line(value: str) -> str:
    return " / ".join(line.strip() for line in value.splitlines() if line.strip()) or "-"


class NoConflict(ValueError):
    """Resolve was asked for an article that is not in conflict."""


def _theirs_digest(theirs: dict) -> str:
    return _digest(theirs.get("title", ""), {name: theirs.get(name, "") for name in FIELDS},
                   theirs.get("codes", ()), theirs.get("attachments", ()))


def resolve(db: Database, article_id: int, choice: str) -> Article:
    """The engineer's answer to a conflict. 'mine': the local version goes to the helpdesk at
    the next sync, over the version shown beside it (if the helpdesk changed again since, that
    is a new conflict, never a silent overwrite). 'theirs': the helpdesk's version replaces
    the local one here; nothing is sent."""
    theirs = conflict_copy(db, article_id)
    if theirs is None:
        raise NoConflict(f"article {article_id} is not in conflict: nothing to resolve")
    base = _theirs_digest(theirs)  # the helpdesk's version the engineer saw and answered
    if choice == "mine":
        _mark(db, article_id, sync_state="pending", remote_digest=base, remote_copy=None)
    elif choice == "theirs":
        update_article(db, article_id, title=theirs.get("title") or get_article(
            db, article_id).title, codes=tuple(theirs.get("codes") or ()),
            attachments=tuple(theirs.get("attachments") or ()), sync_state="synced",
            **{name: theirs.get(name, "") for name in FIELDS})
        _mark(db, article_id, remote_digest=base, remote_copy=None,
              remote_updated=theirs.get("updated_at", ""),
              remote_synced_at=datetime.now(UTC).isoformat())
    else:
        raise ValueError(f"choice must be 'mine' or 'theirs', not {choice!r}")
    return get_article(db, article_id)


def side_by_side(db: Database, article: Article) -> list[tuple[str, str, str]]:
    """(field, here, on the helpdesk) for every field that differs in a conflict."""
    theirs = conflict_copy(db, article.id)
    if theirs is None:
        return []
    rows = [("title", article.title, theirs.get("title", ""))]
    rows += [(name, getattr(article, name), theirs.get(name, "")) for name in FIELDS]
    rows += [("codes", " ".join(article.codes), " ".join(theirs.get("codes") or ())),
             ("attachments", "\n".join(article.attachments),
              "\n".join(theirs.get("attachments") or ()))]
    return [(name, mine or "", other or "") for name, mine, other in rows
            if (mine or "").strip() != (other or "").strip()]
