"""Integrations as business settings: export targets (ODBC, SOAP, webhook), per-service email
options and speech-to-text models, kept in the store under "integrations" (versioned, audited),
and `test_target`, the real round trip behind the web UI's "send a test" button.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from appliance.adapters.export.sqlparams import bind_named
from appliance.domain.records import AuditEntry, new_id
from appliance.errors import ApplianceError, ConfigError
from appliance.ports.delivery import EXPORT_FIELDS
from appliance.ports.store import Store

log = logging.getLogger(__name__)

INTEGRATIONS_KEY = "integrations"
# What an export target can receive; each target says which of them it handles.
EVENT_KINDS = ("ticket_created", "message_left", "callback_finished")
_SECRETS = {"odbc": ("connection",), "soap": ("password",), "webhook": ("secret",)}
MASK = "********"


@dataclass(frozen=True)
class OdbcTarget:
    name: str
    connection: str = field(repr=False)  # DSN name or connection string: may hold Pwd=...
    statements: Mapping[str, str]  # event kind -> SQL with :field names
    kind: Literal["odbc"] = "odbc"

    def handles(self, event_kind: str) -> bool:
        return event_kind in self.statements


@dataclass(frozen=True)
class SoapCall:
    name: str  # the WSDL operation
    fields: Mapping[str, str]  # SOAP parameter -> EXPORT_FIELDS name


@dataclass(frozen=True)
class SoapTarget:
    name: str
    wsdl_url: str
    operations: Mapping[str, SoapCall]  # event kind -> call
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    transient_fault_codes: tuple[str, ...] = ("Server",)
    timeout_s: float = 10.0
    kind: Literal["soap"] = "soap"

    def handles(self, event_kind: str) -> bool:
        return event_kind in self.operations


@dataclass(frozen=True)
class WebhookTarget:
    name: str
    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...] = EVENT_KINDS
    timeout_s: float = 10.0
    kind: Literal["webhook"] = "webhook"

    def handles(self, event_kind: str) -> bool:
        return event_kind in self.events


Target = OdbcTarget | SoapTarget | WebhookTarget


@dataclass(frozen=True)
class EmailOptions:
    sample_width: Literal[1, 2] = 1  # WAV attachment: 8-bit as Portav ships, 16-bit on request
    transcript_wait_s: float = 30.0  # how long the email waits for the transcript


@dataclass(frozen=True)
class Integrations:
    targets: Mapping[str, Target] = field(default_factory=dict)
    email: Mapping[str, EmailOptions] = field(default_factory=dict)  # service -> options
    models: Mapping[str, str] = field(default_factory=dict)  # language -> Vosk model path
    version: int = 0  # 0: nothing stored yet

    def email_for(self, service: str) -> EmailOptions:
        return self.email.get(service) or self.email.get("default") or EmailOptions()

    def targets_for(self, event_kind: str) -> list[str]:
        return sorted(n for n, t in self.targets.items() if t.handles(event_kind))


# -- codec ------------------------------------------------------------------------------------


def parse_integrations(value: Any) -> Integrations:
    """Validate the stored JSON document; ConfigError names the first problem."""
    try:
        doc = dict(value or {})
        targets = [_target(dict(item)) for item in doc.get("targets", [])]
        email = {str(k): _email(dict(v)) for k, v in dict(doc.get("email", {})).items()}
        models = {str(k): str(v) for k, v in dict(doc.get("models", {})).items()}
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"integrations: {type(exc).__name__}: {exc}") from exc
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise ConfigError(f"integrations: target names must be unique: {names}")
    return Integrations({t.name: t for t in targets}, email, models)


def _target(item: dict[str, Any]) -> Target:
    name, kind = str(item["name"]).strip(), item.get("kind")
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"integration target name {name!r}: letters, digits, - and _ only")
    if kind == "odbc":
        statements = {_event(k): str(v) for k, v in dict(item["statements"]).items()}
        for sql in statements.values():
            bind_named(sql, EXPORT_FIELDS)  # raises ConfigError naming an unknown :field
        return OdbcTarget(name, _required(item, "connection"), statements)
    if kind == "soap":
        operations = {_event(k): _soap_call(dict(v)) for k, v in dict(item["operations"]).items()}
        return SoapTarget(
            name, _required(item, "wsdl_url"), operations, item.get("username") or None,
            item.get("password") or None,
            tuple(str(c) for c in item.get("transient_fault_codes", ("Server",))),
            _seconds(item.get("timeout_s", 10.0)))
    if kind == "webhook":
        url = _required(item, "url")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook {name}: url must start with http:// or https://")
        events = tuple(_event(e) for e in item.get("events", EVENT_KINDS))
        return WebhookTarget(name, url, _required(item, "secret"), events,
                             _seconds(item.get("timeout_s", 10.0)))
    raise ConfigError(f"integration target {name}: kind must be odbc, soap or webhook, not {kind!r}")


def _soap_call(item: dict[str, Any]) -> SoapCall:
    fields = {str(k): str(v) for k, v in dict(item.get("fields", {})).items()}
    unknown = sorted(set(fields.values()) - EXPORT_FIELDS)
    if unknown:
        raise ConfigError(f"SOAP operation {item.get('operation')}: unknown fields {unknown}")
    return SoapCall(_required(item, "operation"), fields)


def _email(item: dict[str, Any]) -> EmailOptions:
    width = int(item.get("sample_width", 1))
    if width not in (1, 2):
        raise ConfigError("email sample_width must be 1 (8-bit) or 2 (16-bit)")
    wait = float(item.get("transcript_wait_s", 30.0))
    if not 0 <= wait <= 600:
        raise ConfigError("email transcript_wait_s must be between 0 and 600 seconds")
    return EmailOptions(1 if width == 1 else 2, wait)


def _event(kind: object) -> str:
    if kind not in EVENT_KINDS:
        raise ConfigError(f"unknown event kind {kind!r} (one of {', '.join(EVENT_KINDS)})")
    return str(kind)


def _required(item: Mapping[str, Any], key: str) -> str:
    value = str(item.get(key) or "").strip()
    if not value:
        raise ConfigError(f"integration target {item.get('name')}: {key} is required")
    return value


def _seconds(value: object) -> float:
    seconds = float(str(value))
    if not 0 < seconds <= 300:
        raise ConfigError(f"timeout_s must be between 0 and 300 seconds, not {seconds}")
    return seconds


def to_dict(integrations: Integrations, *, mask: bool = False) -> dict[str, Any]:
    """The JSON document (what the store keeps); `mask` replaces every secret for display/audit."""
    targets = []
    for t in integrations.targets.values():
        item: dict[str, Any] = {"name": t.name, "kind": t.kind}
        if isinstance(t, OdbcTarget):
            item |= {"connection": t.connection, "statements": dict(t.statements)}
        elif isinstance(t, SoapTarget):
            item |= {"wsdl_url": t.wsdl_url, "username": t.username, "password": t.password,
                     "transient_fault_codes": list(t.transient_fault_codes),
                     "timeout_s": t.timeout_s,
                     "operations": {k: {"operation": c.name, "fields": dict(c.fields)}
                                    for k, c in t.operations.items()}}
        else:
            item |= {"url": t.url, "secret": t.secret, "events": list(t.events),
                     "timeout_s": t.timeout_s}
        if mask:
            item |= {key: MASK for key in _SECRETS[t.kind] if item.get(key)}
        targets.append(item)
    return {"targets": targets,
            "email": {k: {"sample_width": v.sample_width, "transcript_wait_s": v.transcript_wait_s}
                      for k, v in integrations.email.items()},
            "models": dict(integrations.models)}


def redacted(integrations: Integrations) -> dict[str, Any]:
    return to_dict(integrations, mask=True)


def _keep_secrets(value: Mapping[str, Any], before: Integrations) -> dict[str, Any]:
    """A secret left empty or masked on a target of the same name and kind keeps its stored value."""
    stored = {t["name"]: t for t in to_dict(before)["targets"]}
    targets = []
    for item in value.get("targets", []):
        item = dict(item)
        old = stored.get(item.get("name"))
        if old is not None and old["kind"] == item.get("kind"):
            for key in _SECRETS.get(str(item.get("kind")), ()):
                if item.get(key) in (None, "", MASK):
                    item[key] = old[key]
        targets.append(item)
    return {**value, "targets": targets}


# -- store ------------------------------------------------------------------------------------


def load_integrations(store: Store) -> Integrations:
    """The stored integrations; none stored yet means no targets and default email options."""
    setting = store.get_setting(INTEGRATIONS_KEY)
    if setting is None:
        return Integrations()
    return replace(parse_integrations(setting.value), version=setting.version)


def save_integrations(
    store: Store, value: Mapping[str, Any], *, expected_version: int, actor: str, now: datetime
) -> Integrations:
    """Validate and store the whole document (blocking); audited with every secret masked.

    Raises ConfigError when invalid and the store's SettingVersionConflict when someone saved
    first. Secrets left empty or masked keep their stored values (forms never show them).
    """
    before = load_integrations(store)
    integrations = parse_integrations(_keep_secrets(value, before))
    setting = store.put_setting(INTEGRATIONS_KEY, to_dict(integrations),
                                expected_version=expected_version, now=now)
    store.append_audit(AuditEntry(
        at=now, actor=actor, action="integrations.save", target=INTEGRATIONS_KEY,
        before=redacted(before) if before.version else None, after=redacted(integrations)))
    log.info("integrations saved by %s (version %d, targets %s)", actor, setting.version,
             sorted(integrations.targets))
    return replace(integrations, version=setting.version)


# -- "send a test" ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetTest:
    ok: bool
    text: str  # the target's own words on failure; what was proven on success


SAMPLE_FIELDS: Mapping[str, object] = {
    "ticket": "TEST-0000", "caller": "+10000000000", "caller_name": "Desborde test",
    "callback_number": "+10000000000", "service": "test", "mode": "business", "language": "es",
    "duration_s": 0.0, "transcript": "", "message_url": "", "id_number": "", "request_type": "",
    "outcome": "test", "attempts": 0,
}


async def test_target(
    integrations: Integrations, name: str, kind: str, *, now: datetime
) -> TargetTest:
    """One real test of target `name` for the event `kind` (e.g. "ticket_created").

    ODBC runs that event's statement and rolls it back; SOAP makes the real call (the service
    receives ticket "TEST-0000"); a webhook receives a signed "ping" event. Never raises for the
    target's failure: the result carries the error text. Load `integrations` with
    `load_integrations` in a thread first (store reads block).
    """
    from appliance.services.delivery_setup import exporter_for  # adapters are built on demand

    target = integrations.targets.get(name)
    if target is None:
        return TargetTest(False, f"no integration target named {name!r}")
    if not isinstance(target, WebhookTarget) and not target.handles(kind):
        return TargetTest(False, f"{target.kind} target {name} has nothing configured for {kind!r}")
    fields = {**SAMPLE_FIELDS, "event_id": f"test-{new_id()}", "kind": kind, "created_at": now}
    try:
        if isinstance(target, OdbcTarget):
            await exporter_for(target).test(kind, fields)
            return TargetTest(True, f"ODBC {name}: the {kind} statement ran and was rolled back")
        if isinstance(target, SoapTarget):
            await exporter_for(target).export(kind, fields)
            return TargetTest(True, f"SOAP {name}: {target.operations[kind].name} accepted the call")
        await exporter_for(target).export("ping", {**fields, "kind": "ping"})
        return TargetTest(True, f"webhook {name}: the signed ping was accepted")
    except ApplianceError as exc:
        log.info("test of %s %s failed: %s", target.kind, name, exc)
        return TargetTest(False, f"{exc.error_id}: {exc}")


test_target.__test__ = False  # type: ignore[attr-defined]  # a product function, not a pytest test
