"""Business settings: the services (calendars, menus, destinations, incidents) kept in the store.

Stored as one JSON document under the settings key "services" with optimistic versioning, so two
admins (or two appliances) cannot silently overwrite each other's edits; every change is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from appliance.domain.records import AuditEntry
from appliance.domain.service_profile import (
    ServiceProfile,
    demo_profile,
    profile_from_dict,
    profile_to_dict,
)
from appliance.errors import ConfigError
from appliance.ports.store import Store

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


@dataclass(frozen=True)
class ServiceCatalog:
    profiles: Mapping[str, ServiceProfile]
    version: int  # 0: nothing stored yet (the embedded default is in use)


def load_catalog(store: Store) -> ServiceCatalog:
    setting = store.get_setting(SERVICES_KEY)
    if setting is None:
        profile = demo_profile()
        return ServiceCatalog({profile.name: profile}, 0)
    try:
        profiles = [profile_from_dict(item) for item in setting.value]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"stored services are invalid: {exc}") from exc
    if not profiles:
        raise ConfigError("stored services list is empty")
    return ServiceCatalog({p.name: p for p in profiles}, setting.version)


def save_profile(
    store: Store, profile: ServiceProfile, *, expected_version: int, actor: str, now: datetime
) -> ServiceCatalog:
    """Insert or replace one service; raises the store's version conflict if someone saved first."""
    catalog = load_catalog(store)
    before = catalog.profiles.get(profile.name)
    profiles = {**catalog.profiles, profile.name: profile}
    value = [profile_to_dict(p) for p in profiles.values()]
    setting = store.put_setting(SERVICES_KEY, value, expected_version=expected_version, now=now)
    store.append_audit(AuditEntry(
        at=now, actor=actor, action="service.save", target=profile.name,
        before=profile_to_dict(before) if before else None, after=profile_to_dict(profile),
    ))
    log.info("service %s saved by %s (version %d)", profile.name, actor, setting.version)
    return ServiceCatalog(profiles, setting.version)
