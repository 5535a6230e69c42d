"""The store's schema as SQLAlchemy Core tables. Alembic migrations must build exactly this."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    text,
)

from appliance.adapters.store.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Ticket numbers on PostgreSQL: unique across every appliance sharing the database.
ticket_sequence = Sequence("ticket_number_seq", start=1, metadata=metadata)

_ACTIVE_CALLBACK = text("status IN ('open', 'dialling')")


def _status_check(name: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{name} IN ({listed})", name=name)


calls = Table(
    "calls",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("service", String(64), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("dialled", String(128), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("language", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False, index=True),
    Column("ended_at", UtcDateTime),
    Column("outcome", String(32)),
    Column("node", String(64), nullable=False),
)

call_events = Table(
    "call_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("call_id", String(255), ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    Index(None, "call_id", "at"),
)

# No foreign key to calls: a message must be kept even if its call row is missing.
messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("call_id", String(255), index=True),
    Column("service", String(64), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False, index=True),
    Column("duration_s", Float, nullable=False),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("too_short", Boolean, nullable=False),
    Column("silent", Boolean, nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("transcript", Text),
    Column("transcript_status", String(16), nullable=False),
    Column("handled_at", UtcDateTime),
    Column("handled_by", String(64)),
    _status_check("transcript_status", ("none", "pending", "done", "failed")),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("sequence", BigInteger, nullable=False, unique=True),
    Column("service", String(64), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("callback_number", String(64)),
    Column("request_type", String(64)),
    Column("customer_id", String(64)),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("call_id", String(255), index=True),
    _status_check("status", ("open", "closed", "not_reached", "cancelled")),
)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id", ondelete="SET NULL")),
    Column("service", String(64), nullable=False),
    Column("number", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("slot_start", UtcDateTime),
    Column("attempts", Integer, nullable=False),
    Column("claimed_by", String(128)),
    Column("lease_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    _status_check("status", ("open", "dialling", "done", "not_reached", "cancelled")),
    Index(None, "status", "due_at"),
    # One open callback per number per service: a repeated request merges into it.
    Index(
        "uq_callbacks_active",
        "service",
        "number",
        unique=True,
        sqlite_where=_ACTIVE_CALLBACK,
        postgresql_where=_ACTIVE_CALLBACK,
    ),
)

callback_attempts = Table(
    "callback_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "callback_id",
        String(64),
        ForeignKey("callbacks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("outcome", String(32), nullable=False),
    Column("amd_verdict", String(32)),
    Column("agent_leg", String(255)),
    Column("duration_s", Float),
    Column("detail", JSON, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(128)),
    Column("lease_until", UtcDateTime),
    Column("last_error", Text),
    Column("dedup_key", String(255), unique=True),
    _status_check("status", ("pending", "running", "done", "failed", "cancelled")),
    Index(None, "status", "due_at"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("must_change_password", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False),
    _status_check("role", ("admin", "supervisor", "staff")),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("hash", String(128), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False),
)

# Named counters: the SQLite ticket sequence (an atomic UPDATE ... RETURNING) and ping().
counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
