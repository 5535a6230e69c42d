"""Recordings a crash interrupted become partial messages: ours at once, another node's once stale."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.adapters.media.recorder import WavRecorder
from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.service_profile import demo_profile
from appliance.services.intake import Intake, PendingRecording

NOW = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)


def _crashed_recording(root: Path, name: str, node: str, started: datetime) -> PendingRecording:
    pending = PendingRecording(call_id=name, service="default", caller="+56912345678",
                               mode="business", language="es", started_at=started,
                               path=root / f"{name}.wav", node=node)
    pending.write_sidecar()
    recorder = WavRecorder(pending.path)
    for _ in range(100):  # 2 s of audio, then the process "dies": no close(), header not final
        recorder.write_frame(b"\x10\x00" * 160)
    recorder.flush()
    return pending


def test_interrupted_recordings_are_filed_by_their_node_or_when_stale(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        root = tmp_path / "recordings"
        ours = _crashed_recording(root, "ours", "a", NOW - timedelta(seconds=30))
        live = _crashed_recording(root, "live", "b", NOW - timedelta(seconds=30))
        dead = _crashed_recording(root, "dead", "b", NOW - timedelta(hours=1))
        recovered = Intake(store).recover_pending(
            root, {"default": demo_profile()}, NOW, node="a", stale_after=timedelta(minutes=5))
        assert sorted(m.call_id or "" for m in recovered) == ["dead", "ours"]
        assert all(m.partial for m in recovered)
        assert not ours.sidecar.exists() and not dead.sidecar.exists()
        assert live.sidecar.exists()  # node b may still be recording it
        with wave.open(str(ours.path)) as wav:
            assert wav.getnframes() >= 8000  # the repaired header covers what was written
        # The periodic sweep (node=None) leaves every live recording alone, ours included.
        mine = _crashed_recording(root, "mine-live", "a", NOW - timedelta(seconds=30))
        swept = Intake(store).recover_pending(
            root, {"default": demo_profile()}, NOW, node=None, stale_after=timedelta(minutes=5))
        assert swept == [] and mine.sidecar.exists() and live.sidecar.exists()
        jobs = store.list_jobs()
        assert sorted(j.payload["message_id"] for j in jobs if j.kind == "voicemail") == sorted(
            m.id for m in recovered)
    finally:
        store.close()
