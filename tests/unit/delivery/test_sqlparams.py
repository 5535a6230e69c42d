"""The :field -> ? tokenizer: quotes, comments and casts are left alone; unknown names refused."""

from __future__ import annotations

import pytest

from appliance.adapters.export.sqlparams import bind_named
from appliance.errors import ConfigError
from appliance.ports.delivery import EXPORT_FIELDS


@pytest.mark.parametrize(
    ("statement", "sql", "fields"),
    [
        (
            "INSERT INTO t VALUES (:ticket, :caller)",
            "INSERT INTO t VALUES (?, ?)",
            ("ticket", "caller"),
        ),
        ("VALUES (:ticket,:ticket)", "VALUES (?,?)", ("ticket", "ticket")),
        ("SELECT ':ticket', :kind", "SELECT ':ticket', ?", ("kind",)),
        ("SELECT 'it''s :x', :kind", "SELECT 'it''s :x', ?", ("kind",)),
        (
            'SELECT "col:caller" FROM t WHERE a = :service',
            'SELECT "col:caller" FROM t WHERE a = ?',
            ("service",),
        ),
        ("SELECT :created_at::timestamptz", "SELECT ?::timestamptz", ("created_at",)),
        ("SELECT 1 -- :nope here\n, :kind", "SELECT 1 -- :nope here\n, ?", ("kind",)),
        ("SELECT /* :nope */ :kind", "SELECT /* :nope */ ?", ("kind",)),
        ("SELECT a:=1", "SELECT a:=1", ()),
        ("SELECT :duration_s+1", "SELECT ?+1", ("duration_s",)),
    ],
)
def test_binds_fields_outside_quotes_and_comments(
    statement: str, sql: str, fields: tuple[str, ...]
) -> None:
    bound = bind_named(statement, EXPORT_FIELDS)
    assert (bound.sql, bound.fields) == (sql, fields)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("INSERT INTO t VALUES (:tikcet)", "unknown field :tikcet"),
        ("INSERT INTO t VALUES (?)", "not '\\?' placeholders"),
        ("SELECT 'open", "unterminated quote"),
        ("SELECT /* open", "unterminated comment"),
    ],
)
def test_rejects_bad_statements(statement: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        bind_named(statement, EXPORT_FIELDS)


def test_params_follow_placeholder_order_and_missing_fields_are_null() -> None:
    bound = bind_named("VALUES (:kind, :ticket, :kind, :transcript)", EXPORT_FIELDS)
    assert bound.params({"ticket": "T-1", "kind": "voicemail"}) == [
        "voicemail",
        "T-1",
        "voicemail",
        None,
    ]
