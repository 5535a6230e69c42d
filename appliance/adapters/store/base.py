"""The transaction seam every store mixin uses: SQLAlchemy errors become StoreError here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from appliance.adapters.store.engine import READ_ONLY
from appliance.adapters.store.tables import outbox
from appliance.domain.records import OutboxJob
from appliance.errors import StoreError
from appliance.ports.store import StoreConflict


class SqlBase:
    """Holds the engine and opens transactions; the feature mixins build on it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        with _mapped_errors(), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One transaction that only reads."""
        with _mapped_errors(), self._engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    def _insert_jobs(self, conn: Connection, jobs: Sequence[OutboxJob]) -> int:
        """Insert jobs inside the caller's transaction; a job whose dedup key exists is skipped."""
        inserted = 0
        for job in jobs:
            if job.dedup_key is not None and _dedup_taken(conn, job.dedup_key):
                continue
            try:
                # A savepoint, so that losing a dedup race does not abort the whole transaction.
                with conn.begin_nested():
                    conn.execute(insert(outbox).values(**job_values(job)))
            except IntegrityError:
                if job.dedup_key is None:
                    raise
                continue
            inserted += 1
        return inserted


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """SQLAlchemy's exceptions become the appliance's own at this seam."""
    try:
        yield
    except IntegrityError as exc:
        raise StoreConflict(f"conflicting write: {exc.orig}") from exc
    except DBAPIError as exc:
        raise StoreError(f"store unavailable: {exc.orig}") from exc
    except StatementError as exc:
        # A value we could not bind (a naive datetime...) is a bug in the caller.
        if isinstance(exc.orig, ValueError | TypeError):
            raise exc.orig from exc
        raise StoreError(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise StoreError(str(exc)) from exc


def _dedup_taken(conn: Connection, key: str) -> bool:
    query = select(outbox.c.id).where(outbox.c.dedup_key == key)
    return conn.execute(query).first() is not None


def job_values(job: OutboxJob) -> dict[str, object]:
    values = asdict(job)
    values["status"] = job.status.value
    return values
