"""A ticket exported over ODBC by the running appliance, with the target stored as a business
setting: the target is down when the SIPp caller takes the ticket, the job waits with the driver's
error visible in /api/v1/outbox, and the row arrives once (event_id = job id) when it is back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from appliance.adapters.store.sql_store import SqlStore
from appliance.config import load_settings
from appliance.services.integrations import save_integrations
from tests.e2e.delivery_support import api, sipp_caller, wait_for, write_config
from tests.support.appliance_proc import running_appliance
from tests.support.odbc import quiet_odbc, sqlite_conn_str
from tests.support.rtp_pcap import caller_pcap
from tests.support.smtp import smtp_server

INSERT = ("INSERT INTO tickets (event_id, ticket, callback_number, created_at) "
          "VALUES (:event_id, :ticket, :callback_number, :created_at)")


def store_target(config: Path, db: Path) -> None:
    """What an admin saves in the UI, written before the start (the store is the same file)."""
    store = SqlStore.open(load_settings(config).store_url)
    try:
        target = {"name": "erp", "kind": "odbc", "connection": sqlite_conn_str(db),
                  "statements": {"ticket_created": INSERT}}
        save_integrations(store, {"targets": [target]}, expected_version=0, actor="admin",
                          now=datetime.now(UTC))
    finally:
        store.close()


async def test_ticket_waits_for_the_odbc_target_then_arrives_once(tmp_path: Path) -> None:
    quiet_odbc()  # the appliance inherits ODBCSYSINI
    db = tmp_path / "erp" / "erp.db"  # its folder is missing: the target is down
    with smtp_server() as smtp:
        config = write_config(tmp_path, smtp.port)
        (tmp_path / "var").mkdir()
        store_target(config, db)
        with running_appliance(config) as demo:
            pcap = caller_pcap(tmp_path / "ticket.pcap", 8.0, digits=[(1.0, "3"), (5.0, "1")])
            result = await sipp_caller(demo, tmp_path / "sipp", pcap).run(120)
            assert result.returncode == 0, result.explain() + demo.log()[-4000:]
            wait_for(lambda: api(demo, "outbox?kind=export"), what="the export job")
            wait_for(lambda: api(demo, "outbox?kind=export")[0]["attempts"], what="an attempt")
            [waiting] = api(demo, "outbox?kind=export")
            assert waiting["status"] == "pending" and waiting["target"] == "erp"
            assert "ODBC connect" in str(waiting["last_error"])

            db.parent.mkdir()
            with sqlite3.connect(db) as con:
                con.execute("CREATE TABLE tickets (event_id TEXT PRIMARY KEY, ticket TEXT, "
                            "callback_number TEXT, created_at TEXT)")
            wait_for(lambda: api(demo, "outbox?kind=export")[0]["status"] == "done", timeout=60,
                     what="the export done")
            [ticket] = api(demo, "tickets")
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT event_id, ticket, callback_number FROM tickets").fetchall()
    assert rows == [(waiting["id"], ticket["number"], "+56912345678")]
