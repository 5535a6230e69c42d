"""SoapExporter against a real spyne service: call, WS-Security header, faults, down, slow."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from appliance.adapters.export.soap import SoapExporter, SoapOperation, SoapSettings
from appliance.errors import ConfigError, ExportError
from tests.support.smtp import free_port
from tests.support.soap_server import TicketDesk, soap_server

CREATED = SoapOperation(
    "CreateTicket",
    {
        "ticket_number": "ticket",
        "phone": "callback_number",
        "caller_id": "caller",
        "created_at": "created_at",
        "kind": "kind",
    },
)
FIELDS = {
    "ticket": "T-000123",
    "callback_number": "+56912345678",
    "caller": "José 김민수 <&>",
    "created_at": datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
    "kind": "voicemail",
}


def exporter(wsdl: str, **kw: object) -> SoapExporter:
    return SoapExporter(SoapSettings(wsdl, {"ticket_created": CREATED}, **kw))  # type: ignore[arg-type]


async def test_export_calls_the_operation_with_mapped_fields() -> None:
    with soap_server() as (wsdl, desk):
        await exporter(wsdl).export("ticket_created", FIELDS)
    assert desk.tickets == [
        {
            "ticket_number": "T-000123",
            "phone": "+56912345678",
            "caller_id": "José 김민수 <&>",
            "created_at": datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
            "kind": "voicemail",
        }
    ]


async def test_username_token_is_sent_when_configured() -> None:
    with soap_server() as (wsdl, desk):
        await exporter(wsdl, username="desborde", password="s3cret").export(
            "ticket_created", FIELDS
        )
    body = desk.requests[-1]
    assert b"UsernameToken" in body and b">desborde<" in body and b">s3cret<" in body


async def test_client_fault_is_permanent_and_keeps_its_text() -> None:
    desk = TicketDesk(faults=[("Client.InvalidKind", "unknown kind 'bogus'")])
    with soap_server(desk) as (wsdl, _), pytest.raises(ExportError) as err:
        await exporter(wsdl).export("ticket_created", FIELDS)
    assert err.value.transient is False
    assert "Client.InvalidKind" in str(err.value) and "unknown kind 'bogus'" in str(err.value)


async def test_server_fault_is_transient_and_next_attempt_succeeds() -> None:
    desk = TicketDesk(faults=[("Server.Busy", "backend busy")])
    with soap_server(desk) as (wsdl, _):
        exp = exporter(wsdl)
        with pytest.raises(ExportError, match="backend busy") as err:
            await exp.export("ticket_created", FIELDS)
        assert err.value.transient is True
        await exp.export("ticket_created", FIELDS)
    assert len(desk.tickets) == 1


async def test_configured_fault_codes_decide_transience() -> None:
    desk = TicketDesk(faults=[("Client.Locked", "record locked")])
    with soap_server(desk) as (wsdl, _), pytest.raises(ExportError) as err:
        await exporter(wsdl, transient_fault_codes=frozenset({"Client.Locked"})).export(
            "ticket_created", FIELDS
        )
    assert err.value.transient is True


async def test_missing_mandatory_field_is_permanent() -> None:
    with soap_server() as (wsdl, desk), pytest.raises(ExportError) as err:
        await exporter(wsdl).export("ticket_created", {**FIELDS, "ticket": None})
    assert err.value.transient is False and desk.tickets == []


async def test_server_down_is_transient() -> None:
    with pytest.raises(ExportError) as err:
        await exporter(f"http://127.0.0.1:{free_port()}/?wsdl").export("ticket_created", FIELDS)
    assert err.value.transient is True


async def test_server_gone_after_wsdl_loaded_is_transient() -> None:
    with soap_server() as (wsdl, _):
        exp = exporter(wsdl)
        await exp.export("ticket_created", FIELDS)
    with pytest.raises(ExportError) as err:
        await exp.export("ticket_created", FIELDS)
    assert err.value.transient is True


async def test_slow_server_times_out_transiently() -> None:
    with soap_server() as (wsdl, desk):
        exp = exporter(wsdl, timeout_s=0.5)
        await exp.export("ticket_created", FIELDS)  # WSDL loaded while fast
        desk.delay_s = 3.0
        started = time.monotonic()
        with pytest.raises(ExportError, match=r"(?i)timed? ?out") as err:
            await exp.export("ticket_created", FIELDS)
        assert time.monotonic() - started < 2.5
    assert err.value.transient is True


async def test_unknown_operation_is_permanent() -> None:
    op = SoapOperation("NoSuchOp", {"ticket_number": "ticket"})
    with soap_server() as (wsdl, _), pytest.raises(ExportError, match="NoSuchOp") as err:
        await SoapExporter(SoapSettings(wsdl, {"ticket_created": op})).export(
            "ticket_created", FIELDS
        )
    assert err.value.transient is False


def test_unknown_field_in_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="tikcet"):
        SoapOperation("CreateTicket", {"ticket_number": "tikcet"})
