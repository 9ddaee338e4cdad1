"""lookups and search: normalised caller phone, ticket and case number indexes; full-text index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)

- ``case.phone_key``: the caller's phone without spaces, dashes and the +86 / 0086 / 86
  prefix, a column the database computes (VIRTUAL on SQLite, STORED on PostgreSQL), indexed;
  existing rows get theirs as the column is added.
- Full text over description, address and result: on SQLite an FTS5 table with the trigram
  tokenizer over the case table (external content) kept by triggers, rebuilt here from the
  rows already stored; on PostgreSQL a GIN ``gin_trgm_ops`` index over the same text.
- Indexes matching the keyset-paginated lists: the dispatch queue (state, queue, urgency, updated),
  the department inbox (lead department, state, urgency, updated) and the Open311 listing
  (channel, id); they replace the single-column indexes on state, lead department and
  queue, each a prefix of one of them.

The SQL is spelled out here (a migration is a snapshot); ``engine.cases.models.PHONE_KEY_SQL``
and ``engine.search.models`` hold the same text for the models and queries.

Revision ID: 2b8e6f0a1c06
Revises: 2b8e6f0a1c05
Create Date: 2026-12-07 09:50:00
"""

from __future__ import annotations

from alembic import op

revision = "2b8e6f0a1c06"
down_revision = "2b8e6f0a1c05"
branch_labels = None
depends_on = None

_DIGITS = "replace(replace(reporter_phone, ' ', ''), '-', '')"
PHONE_KEY_SQL = (
    f"CASE WHEN {_DIGITS} LIKE '+86%' THEN substr({_DIGITS}, 4)"
    f" WHEN {_DIGITS} LIKE '0086%' THEN substr({_DIGITS}, 5)"
    f" WHEN length({_DIGITS}) = 13 AND {_DIGITS} LIKE '861%' THEN substr({_DIGITS}, 3)"
    f" ELSE {_DIGITS} END"
)
SEARCH_TEXT_SQL = (
    "(coalesce(description, '') || ' ' || coalesce(address, '') || ' ' || coalesce(resolution, ''))"
)
_FTS_COLUMNS = "rowid, description, address, resolution"
_SQLITE = [
    "CREATE VIRTUAL TABLE case_search USING fts5(description, address, resolution,"
    " content='case', content_rowid='id', tokenize='trigram', columnsize=0)",
    f"""CREATE TRIGGER case_search_ai AFTER INSERT ON "case" BEGIN
        INSERT INTO case_search({_FTS_COLUMNS})
        VALUES (new.id, new.description, new.address, new.resolution);
    END""",
    f"""CREATE TRIGGER case_search_au AFTER UPDATE OF description, address, resolution
    ON "case" BEGIN
        INSERT INTO case_search(case_search, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.description, old.address, old.resolution);
        INSERT INTO case_search({_FTS_COLUMNS})
        VALUES (new.id, new.description, new.address, new.resolution);
    END""",
    f"""CREATE TRIGGER case_search_ad AFTER DELETE ON "case" BEGIN
        INSERT INTO case_search(case_search, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.description, old.address, old.resolution);
    END""",
    "INSERT INTO case_search(case_search) VALUES ('rebuild')",  # the rows already stored
]
# Single-column indexes each a prefix of a list index below (ix_case_state_unit starts with
# state too): dropped, so a case write updates no more indexes than before this revision.
_REPLACED = {
    "ix_case_state": "state",
    "ix_case_lead_department": "lead_department",
    "ix_case_dispatch_queue": "dispatch_queue",
}
_LIST_INDEXES = {
    "ix_case_queue": ("state", "dispatch_queue", "urgency", "updated_at"),
    "ix_case_inbox": ("lead_department", "state", "urgency", "updated_at"),
    "ix_case_channel_id": ("channel", "id"),  # the Open311 listing, newest first
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    stored = "VIRTUAL" if sqlite else "STORED"  # SQLite adds only VIRTUAL; PostgreSQL only STORED
    op.execute(
        f'ALTER TABLE "case" ADD COLUMN phone_key VARCHAR(30)'
        f" GENERATED ALWAYS AS ({PHONE_KEY_SQL}) {stored}"
    )
    op.create_index("ix_case_phone_key", "case", ["phone_key"])
    for name, columns in _LIST_INDEXES.items():
        op.create_index(name, "case", list(columns))
    for name in _REPLACED:
        op.drop_index(name, table_name="case")
    # A handler's scope (the cases its department holds a task on) from the index alone.
    op.create_index("ix_case_task_department_case", "case_task", ["department", "case_id"])
    op.drop_index("ix_case_task_department", table_name="case_task")
    if sqlite:
        for statement in _SQLITE:
            op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f'CREATE INDEX ix_case_search_trgm ON "case" USING gin ({SEARCH_TEXT_SQL} gin_trgm_ops)'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("case_search_ai", "case_search_au", "case_search_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_case_search_trgm")  # pg_trgm stays: others may use it
    op.create_index("ix_case_task_department", "case_task", ["department"])
    op.drop_index("ix_case_task_department_case", table_name="case_task")
    for name, column in _REPLACED.items():
        op.create_index(name, "case", [column])
    for name in _LIST_INDEXES:
        op.drop_index(name, table_name="case")
    op.drop_index("ix_case_phone_key", table_name="case")
    op.execute('ALTER TABLE "case" DROP COLUMN phone_key')
