"""search index

The archive's full-text index (``/search``, ``storage/search.py``): one row per slot holding its
paper's title and abstract and its card's text, kept current by triggers on ``slot``, ``card``
and ``paper``, so every write path (a presenter's save, the background drafter, a backup's
import, a SQL console) updates it without the application remembering to. Existing slots are
indexed here.

- SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34 or newer), which finds any
  piece of three characters or more inside a text, Japanese included (no word segmentation
  needed); shorter pieces are found with LIKE over the same table (``storage/search.py``).
- PostgreSQL: a table with a GIN ``pg_trgm`` index over all its text, searched with ILIKE.
  ``CREATE EXTENSION pg_trgm`` (a trusted extension since PostgreSQL 13: the database's owner may
  create it). The downgrade leaves the extension installed, as other schemas may use it.

The index tables are no models (``storage.search.include_name`` keeps them out of Alembic's
comparisons) and are not in backups: importing a backup fills the index through the triggers.
A later migration that rebuilds ``slot``, ``card`` or ``paper`` on SQLite in batch mode (copy
and rename) drops their triggers with the old table and must create them again.

Revision ID: 0007
Revises: 0006
Created: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARD_TEXT = (
    "purpose",
    "results",
    "method",
    "model_name",
    "affiliations",
    "summary",
    "translated_title",
    "translated_abstract",
)
COLUMNS = ("title", "abstract", *CARD_TEXT)
VALUES = ", ".join(["p.title", "p.abstract", *(f"coalesce(c.{name}, '')" for name in CARD_TEXT)])
SOURCE = (
    "FROM slot AS s JOIN paper AS p ON p.id = s.paper_id LEFT JOIN card AS c ON c.slot_id = s.id"
)
CARD_WATCHED = ", ".join(("slot_id", *CARD_TEXT))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (
            ("search_index_slot", "slot"),
            ("search_index_card", "card"),
            ("search_index_paper", "paper"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in ("on_slot()", "on_card()", "on_paper()", "refresh(integer[])"):
            op.execute(f"DROP FUNCTION IF EXISTS search_index_{function}")
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS search_index")


# --- SQLite: FTS5, trigram ----------------------------------------------------------------------


def _sqlite_refresh(gone: str, where: str) -> str:
    """Statements that index again the slots ``where`` names (after dropping rows ``gone``)."""
    names = ", ".join(COLUMNS)
    return (
        f"DELETE FROM search_index WHERE rowid IN ({gone});\n"
        f"INSERT INTO search_index (rowid, {names}) SELECT s.id, {VALUES} {SOURCE} WHERE {where};"
    )


_SQLITE_TRIGGERS = {
    "search_index_slot_insert": (
        "AFTER INSERT ON slot",
        _sqlite_refresh("NEW.id", "s.id = NEW.id"),
    ),
    "search_index_slot_update": (
        "AFTER UPDATE OF id, paper_id ON slot",
        _sqlite_refresh("OLD.id, NEW.id", "s.id = NEW.id"),
    ),
    "search_index_slot_delete": (
        "AFTER DELETE ON slot",
        "DELETE FROM search_index WHERE rowid = OLD.id;",
    ),
    "search_index_card_insert": (
        "AFTER INSERT ON card",
        _sqlite_refresh("NEW.slot_id", "s.id = NEW.slot_id"),
    ),
    "search_index_card_update": (
        f"AFTER UPDATE OF {CARD_WATCHED} ON card",
        _sqlite_refresh("OLD.slot_id, NEW.slot_id", "s.id IN (OLD.slot_id, NEW.slot_id)"),
    ),
    "search_index_card_delete": (
        "AFTER DELETE ON card",
        _sqlite_refresh("OLD.slot_id", "s.id = OLD.slot_id"),
    ),
    "search_index_paper_update": (
        "AFTER UPDATE OF id, title, abstract ON paper",
        _sqlite_refresh(
            "SELECT id FROM slot WHERE paper_id IN (OLD.id, NEW.id)",
            "s.paper_id IN (OLD.id, NEW.id)",
        ),
    ),
}


def _upgrade_sqlite() -> None:
    columns = ", ".join(COLUMNS)
    op.execute(f"CREATE VIRTUAL TABLE search_index USING fts5({columns}, tokenize = 'trigram')")
    for name, (when, body) in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN\n{body}\nEND")
    op.execute(
        f"INSERT INTO search_index (rowid, {columns}) SELECT s.id, {VALUES} {SOURCE} ORDER BY s.id"
    )


# --- PostgreSQL: pg_trgm ------------------------------------------------------------------------


def _upgrade_postgresql() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    texts = ",\n".join(f"    {name} text NOT NULL DEFAULT ''" for name in COLUMNS)
    body = " || chr(10) || ".join(COLUMNS)  # (search words hold no line break: no match across)
    op.execute(
        "CREATE TABLE search_index (\n"
        "    slot_id integer PRIMARY KEY,\n"
        f"{texts},\n"
        f"    body text GENERATED ALWAYS AS ({body}) STORED\n"
        ")"
    )
    op.execute("CREATE INDEX search_index_body ON search_index USING gin (body gin_trgm_ops)")
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in COLUMNS)
    op.execute(
        "CREATE FUNCTION search_index_refresh(slot_ids integer[]) RETURNS void"
        " LANGUAGE sql AS $$\n"
        "  DELETE FROM search_index AS x WHERE x.slot_id = ANY(slot_ids)"
        " AND NOT EXISTS (SELECT 1 FROM slot WHERE slot.id = x.slot_id);\n"
        f"  INSERT INTO search_index (slot_id, {names}) SELECT s.id, {VALUES} {SOURCE}"
        " WHERE s.id = ANY(slot_ids)\n"
        f"  ON CONFLICT (slot_id) DO UPDATE SET {updates};\n"
        "$$"
    )
    for table, ids, watched in (
        ("slot", ("OLD.id", "NEW.id"), "id, paper_id"),
        ("card", ("OLD.slot_id", "NEW.slot_id"), CARD_WATCHED),
    ):
        old, new = ids
        op.execute(
            f"CREATE FUNCTION search_index_on_{table}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "  IF TG_OP = 'DELETE' THEN\n"
            f"    PERFORM search_index_refresh(ARRAY[{old}]);\n"
            "  ELSIF TG_OP = 'UPDATE' THEN\n"
            f"    PERFORM search_index_refresh(ARRAY[{old}, {new}]);\n"
            "  ELSE\n"
            f"    PERFORM search_index_refresh(ARRAY[{new}]);\n"
            "  END IF;\n"
            "  RETURN NULL;\n"
            "END\n"
            "$$"
        )
        op.execute(
            f"CREATE TRIGGER search_index_{table}"
            f" AFTER INSERT OR DELETE OR UPDATE OF {watched} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION search_index_on_{table}()"
        )
    op.execute(
        "CREATE FUNCTION search_index_on_paper() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  PERFORM search_index_refresh(\n"
        "    ARRAY(SELECT id FROM slot WHERE paper_id IN (OLD.id, NEW.id)));\n"
        "  RETURN NULL;\n"
        "END\n"
        "$$"
    )
    op.execute(
        "CREATE TRIGGER search_index_paper AFTER UPDATE OF id, title, abstract ON paper"
        " FOR EACH ROW EXECUTE FUNCTION search_index_on_paper()"
    )
    op.execute("SELECT search_index_refresh(ARRAY(SELECT id FROM slot))")
