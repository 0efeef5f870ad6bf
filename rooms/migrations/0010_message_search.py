"""A full-text index of the messages' text, in the database's own form (rooms/search/).

PostgreSQL: a tsvector column generated from the text ('simple': no stemming, so prefix
searches behave as on SQLite) and a GIN index on it. Punctuation becomes spaces first:
PostgreSQL's parser reads tags, addresses, file names and hyphenated words as tokens of
their own (and drops tags), where SQLite's tokenizer, and the search box, see plain words.

SQLite: an FTS5 table over rooms_message (external content: the text is stored once),
kept in step by triggers, and filled with the messages already there. A deleted message
is indexed as no text. Migrations that make SQLite rebuild rooms_message drop its
triggers: such a migration has to create them again.
"""

from django.db import migrations

POSTGRESQL = [
    (
        "ALTER TABLE rooms_message ADD COLUMN search tsvector"
        " GENERATED ALWAYS AS"
        " (to_tsvector('simple', regexp_replace(body, '[[:punct:]]+', ' ', 'g'))) STORED",
        "ALTER TABLE rooms_message DROP COLUMN search",
    ),
    (
        "CREATE INDEX rooms_message_search ON rooms_message USING gin (search)",
        "DROP INDEX rooms_message_search",
    ),
]

# What the index holds for a row: its text, none once deleted.
INDEXED = "CASE WHEN {row}.deleted IS NULL THEN {row}.body ELSE '' END"
FORGET = (
    "INSERT INTO rooms_message_fts(rooms_message_fts, rowid, body)"
    f" VALUES ('delete', old.id, {INDEXED.format(row='old')});"
)
LEARN = f"INSERT INTO rooms_message_fts(rowid, body) VALUES (new.id, {INDEXED.format(row='new')});"

SQLITE = [
    (
        "CREATE VIRTUAL TABLE rooms_message_fts USING fts5(body, content='rooms_message',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        "DROP TABLE rooms_message_fts",
    ),
    (
        f"CREATE TRIGGER rooms_message_fts_insert AFTER INSERT ON rooms_message BEGIN {LEARN} END",
        "DROP TRIGGER rooms_message_fts_insert",
    ),
    (
        f"CREATE TRIGGER rooms_message_fts_delete AFTER DELETE ON rooms_message BEGIN {FORGET} END",
        "DROP TRIGGER rooms_message_fts_delete",
    ),
    (
        # An edit replaces the old text; a deletion leaves none.
        "CREATE TRIGGER rooms_message_fts_update AFTER UPDATE OF body, deleted ON rooms_message"
        f" BEGIN {FORGET} {LEARN} END",
        "DROP TRIGGER rooms_message_fts_update",
    ),
    # The messages stored before the index (deleted ones have no text left to index).
    ("INSERT INTO rooms_message_fts(rooms_message_fts) VALUES ('rebuild')", None),
]

STATEMENTS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}


def create(apps, schema_editor) -> None:
    for forward, _ in STATEMENTS.get(schema_editor.connection.vendor, []):
        schema_editor.execute(forward)


def drop(apps, schema_editor) -> None:
    for _, backward in reversed(STATEMENTS.get(schema_editor.connection.vendor, [])):
        if backward:
            schema_editor.execute(backward)


class Migration(migrations.Migration):
    dependencies = [("rooms", "0009_reactions_replies")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
