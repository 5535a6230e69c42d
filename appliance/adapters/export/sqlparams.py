"""Turning `:name` fields in an admin's SQL statement into `?` placeholders, never formatting values.

A small tokenizer: quoted strings, quoted identifiers, comments and PostgreSQL `::` casts pass
through untouched, so `':x'` or `"a:b"` in the statement are never taken for fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appliance.errors import ConfigError


@dataclass(frozen=True)
class BoundStatement:
    sql: str  # the statement with one `?` per field occurrence
    fields: tuple[str, ...]  # field names in placeholder order (repeats allowed)

    def params(self, values: Mapping[str, object]) -> list[object]:
        """The positional parameters; a field the event does not carry binds as NULL."""
        return [values.get(name) for name in self.fields]


def bind_named(statement: str, allowed: frozenset[str]) -> BoundStatement:
    out: list[str] = []
    fields: list[str] = []
    i, n = 0, len(statement)
    while i < n:
        ch, nxt = statement[i], statement[i + 1 : i + 2]
        if ch in "'\"":
            end = _closing_quote(statement, i)
        elif ch + nxt == "--":
            end = _until(statement, i, "\n", keep_missing=True)
        elif ch + nxt == "/*":
            end = _until(statement, i + 2, "*/", keep_missing=False)
        elif ch + nxt == "::":
            end = i + 2
        elif ch == ":" and (nxt.isalpha() or nxt == "_"):
            end = _identifier_end(statement, i + 1)
            fields.append(_known(statement[i + 1 : end], allowed))
            out.append("?")
            i = end
            continue
        elif ch == "?":
            raise ConfigError("export statement: use :field names, not '?' placeholders")
        else:
            end = i + 1
        out.append(statement[i:end])
        i = end
    return BoundStatement("".join(out), tuple(fields))


def _closing_quote(text: str, start: int) -> int:
    # SQL escapes a quote by doubling it: 'it''s' is one literal, which this loop reads as two
    # adjacent literals, and that copies the same characters through.
    end = text.find(text[start], start + 1)
    if end < 0:
        raise ConfigError(f"export statement: unterminated quote at position {start}")
    return end + 1


def _until(text: str, start: int, marker: str, *, keep_missing: bool) -> int:
    end = text.find(marker, start)
    if end < 0:
        if keep_missing:
            return len(text)
        raise ConfigError(f"export statement: unterminated comment at position {start}")
    return end + len(marker)


def _identifier_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return end


def _known(name: str, allowed: frozenset[str]) -> str:
    if name not in allowed:
        raise ConfigError(f"export statement: unknown field :{name} (known: {sorted(allowed)})")
    return name
