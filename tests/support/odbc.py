"""unixODBC set-up for tests: a private ODBCSYSINI with the SQLite3 and PostgreSQL Unicode drivers.

Debian's /etc/odbcinst.ini sets CommLog=1 for psqlODBC, which makes every process write a log file
into TMPDIR. unixODBC reads ODBCSYSINI when it loads, so call `quiet_odbc()` before any connect.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ODBCINST_INI = """\
[PostgreSQL Unicode]
Description=PostgreSQL ODBC driver (Unicode version)
Driver=psqlodbcw.so
Debug=0
CommLog=0
UsageCount=1

[SQLite3]
Description=SQLite3 ODBC Driver
Driver=libsqlite3odbc.so
UsageCount=1
"""

_dir: Path | None = None


def quiet_odbc() -> Path:
    """Point unixODBC at our odbcinst.ini (once per process) and return its directory."""
    global _dir
    if _dir is None:
        _dir = Path(tempfile.mkdtemp(prefix="odbcsysini-"))
        (_dir / "odbcinst.ini").write_text(ODBCINST_INI)
        (_dir / "odbc.ini").write_text("")
        os.environ["ODBCSYSINI"] = str(_dir)
    return _dir


def sqlite_conn_str(db: Path) -> str:
    return f"Driver={{SQLite3}};Database={db}"


def postgres_conn_str(host: str, port: int, user: str, password: str, dbname: str) -> str:
    return (
        f"Driver={{PostgreSQL Unicode}};Server={host};Port={port};Database={dbname};"
        f"Uid={user};Pwd={password};"
    )


def add_dsn(name: str, driver: str, **attributes: str) -> None:
    """Declare a system DSN in our private odbc.ini (unixODBC rereads it on each connect)."""
    lines = [f"[{name}]", f"Driver={driver}", *(f"{k}={v}" for k, v in attributes.items())]
    with (quiet_odbc() / "odbc.ini").open("a") as f:
        f.write("\n".join(lines) + "\n\n")
