"""What a helpdesk admin sets up in Request Tracker for the shared knowledge base (the README's
"Knowledge base in RT" section says the same): an article class 'PACS Field', its custom
fields, and the API user's rights on them. Inserted into the running test RT with RT's own
rt-setup-database, the way an admin would load an initialdata file."""

from __future__ import annotations

ARTICLE_CLASS = "PACS Field"
# The article's text lives in custom fields on the class (RT articles have no body field).
ARTICLE_FIELDS = {"ArticleKey": "FreeformSingle", "Symptoms": "TextSingle",
                  "Cause": "TextSingle", "Fix": "TextSingle", "Steps": "TextSingle",
                  "Codes": "FreeformSingle", "Vendor": "FreeformSingle",
                  "Model": "FreeformSingle", "Site": "FreeformSingle",
                  "Author": "FreeformSingle", "Attachments": "FreeformSingle",
                  "Files": "BinaryMultiple"}
KB_DATA = """\
@Classes = ({{ Name => '{cls}', Description => 'PACS Console knowledge base' }});
@CustomFields = (
{fields}
);
@ACL = (
  map({{ UserId => '{user}', ObjectType => 'RT::Class', ObjectId => '{cls}', Right => $_ }},
      qw(SeeClass ShowArticle ShowArticleHistory CreateArticle ModifyArticle)),
  map({{ UserId => '{user}', Right => $_ }}, qw(SeeCustomField ModifyCustomField)),
);
1;
"""


def add_article_class(peer) -> None:
    """The class, fields and rights on the session's RT peer (idempotent per session)."""
    fields = ",\n".join(
        f"  {{ Name => '{name}', Type => '{kind}', LookupType => 'RT::Class-RT::Article', "
        f"ApplyTo => ['{ARTICLE_CLASS}'] }}" for name, kind in ARTICLE_FIELDS.items())
    peer.insert("kb", KB_DATA.format(cls=ARTICLE_CLASS, user=peer.user, fields=fields))
