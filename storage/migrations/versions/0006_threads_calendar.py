"""threads and calendar

Around the meeting: a group's thread, location and calendar settings, a session's calendar
identity (a UID, a revision, cancellation, the platform's event), each card's discussion thread
and the questions asked in it. Existing groups get an unguessable calendar token each, and
existing sessions a UID each, before the unique indexes are made.

Revision ID: 0006
Revises: 0005
Created: 2026-12-02 05:40:00
"""

import secrets
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would copy reading_group and session, which others refer to.
    op.add_column(
        "reading_group", sa.Column("threads", sa.Boolean(), nullable=False, server_default="1")
    )
    op.add_column(
        "reading_group",
        sa.Column("location", _TEXT(length=200), nullable=False, server_default=""),
    )
    op.add_column(
        "reading_group",
        sa.Column("calendar_token", _TEXT(length=64), nullable=False, server_default=""),
    )
    op.add_column(
        "reading_group",
        sa.Column("events_refused", sa.Boolean(), nullable=False, server_default="0"),
    )
    op.add_column("session", sa.Column("uid", _TEXT(length=64), nullable=False, server_default=""))
    op.add_column(
        "session", sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "session",
        sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("session", sa.Column("event_ref", _TEXT(length=64), nullable=True))
    connection = op.get_bind()
    for (group_id,) in connection.execute(sa.text("SELECT id FROM reading_group")).all():
        connection.execute(
            sa.text("UPDATE reading_group SET calendar_token = :token WHERE id = :id"),
            {"token": secrets.token_urlsafe(18), "id": group_id},
        )
    for (session_id,) in connection.execute(sa.text("SELECT id FROM session")).all():
        connection.execute(
            sa.text("UPDATE session SET uid = :uid WHERE id = :id"),
            {"uid": uuid.uuid4().hex, "id": session_id},
        )
    op.create_index(
        "reading_group_calendar_token", "reading_group", ["calendar_token"], unique=True
    )
    op.create_index("session_uid", "session", ["uid"], unique=True)
    op.create_table(
        "paper_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("ref", _TEXT(length=200), nullable=False),
        sa.Column("link", _TEXT(length=500), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["reading_group.id"]),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "ref"),
        sa.UniqueConstraint("slot_id"),
    )
    op.create_table(
        "thread_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("key", _TEXT(length=200), nullable=False),
        sa.Column("author_id", _TEXT(length=64), nullable=False),
        sa.Column("author_name", _TEXT(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_thread_question_slot_id", "thread_question", ["slot_id"])


def downgrade() -> None:
    op.drop_index("ix_thread_question_slot_id", table_name="thread_question")
    op.drop_table("thread_question")
    op.drop_table("paper_thread")
    op.drop_index("session_uid", table_name="session")
    op.drop_index("reading_group_calendar_token", table_name="reading_group")
    for column in ("event_ref", "cancelled_at", "revision", "uid"):
        op.drop_column("session", column)  # SQLite 3.35 and newer drop a column in place
    for column in ("events_refused", "calendar_token", "location", "threads"):
        op.drop_column("reading_group", column)
