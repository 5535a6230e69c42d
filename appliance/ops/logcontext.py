"""The call id on every log line written inside a call, adapters' lines included: a context variable
set once per call (asyncio tasks and to_thread copy it) and a filter that copies it onto records."""

from __future__ import annotations

import logging
from contextvars import ContextVar

CALL_ID: ContextVar[str | None] = ContextVar("desborde_call_id", default=None)


def enter_call(call_id: str) -> None:
    """Mark the current task (and every task and thread it starts) as working for `call_id`."""
    CALL_ID.set(call_id)


class CallIdFilter(logging.Filter):
    """Adds `call_id` to records that do not carry one; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "call_id", None) is None:
            call_id = CALL_ID.get()
            if call_id is not None:
                record.call_id = call_id
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of `logger` (the root by default), once.

    On handlers, not on the logger: a logger's filters do not see records propagated from
    its children, a handler's filters see them all.
    """
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, CallIdFilter) for f in handler.filters):
            handler.addFilter(CallIdFilter())
