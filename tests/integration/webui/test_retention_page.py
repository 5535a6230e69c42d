"""The retention page on the real store: days per service saved, inherited, refused when wrong."""

from __future__ import annotations

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import Role
from appliance.ops.retention import Keep, load_policy
from tests.integration.webui.conftest import TestClient, add_user, sign_in


def test_days_are_saved_for_all_services_and_one_service(
    client: TestClient, admin: str, store: SqlStore
) -> None:
    saved = client.post("/retention", data={"csrf": admin, "version": "0",
                                            "*.recordings_days": "90", "*.transcripts_days": "",
                                            "default.recordings_days": "",
                                            "default.transcripts_days": "30"})
    assert saved.status_code == 303, saved.text
    policy, version = load_policy(store)
    assert version == 1
    assert policy.default == Keep(90, None)
    assert policy.services == {"default": Keep(None, 30)}
    assert policy.services["default"].over(policy.default) == Keep(90, 30)
    page = client.get("/retention").text
    assert 'id="*-recordings" value="90"' in page and 'id="default-transcripts" value="30"' in page
    assert "retention.save" in [e.action for e in store.list_audit(limit=5)]
    stale = client.post("/retention", data={"csrf": admin, "version": "0",
                                            "*.recordings_days": "10"})
    assert stale.status_code == 409


@pytest.mark.parametrize("days", ["0", "-3", "1.5", "ninety", "36501", "9" * 40])
def test_wrong_days_are_refused(client: TestClient, admin: str, store: SqlStore,
                                days: str) -> None:
    refused = client.post("/retention", data={"csrf": admin, "version": "0",
                                              "*.recordings_days": days})
    assert refused.status_code == 400
    assert load_policy(store)[1] == 0


def test_only_admins_change_retention(client: TestClient, store: SqlStore) -> None:
    add_user(store, "sue", Role.SUPERVISOR)
    token = sign_in(client, "sue")
    assert client.get("/retention").status_code == 403
    assert client.post("/retention", data={"csrf": token, "version": "0"}).status_code == 403
