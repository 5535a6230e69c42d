"""Reading the integrations forms into the stored document's shape: one export target at a time,
the per-service email options and the speech models. The service validates the result; these
functions only say what the form itself got wrong (ValueError with a message the page shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from appliance.services.integrations import EVENT_KINDS, MASK, Integrations, to_dict
from webui.forms import parse_list

KINDS = ("odbc", "soap", "webhook")
SECRET_FIELD = {"odbc": "connection", "soap": "password", "webhook": "secret"}


def parse_mapping(text: str) -> dict[str, str]:
    """'ticketNumber = ticket' lines -> {'ticketNumber': 'ticket'} (SOAP parameter -> field)."""
    mapping: dict[str, str] = {}
    for line in text.replace(",", "\n").splitlines():
        if not line.strip():
            continue
        param, sep, name = line.partition("=")
        if not sep or not param.strip() or not name.strip():
            raise ValueError(f"write each SOAP parameter as parameter = field, got {line.strip()!r}")
        mapping[param.strip()] = name.strip()
    return mapping


def format_mapping(mapping: Mapping[str, str]) -> str:
    return "\n".join(f"{param} = {name}" for param, name in mapping.items())


def target_from_form(fields: Mapping[str, str], events: Sequence[str]) -> dict[str, Any]:
    """One target as the document keeps it; a secret left empty stays empty (kept by the caller)."""
    kind = fields.get("kind", "")
    if kind not in KINDS:
        raise ValueError("choose ODBC, SOAP or webhook")
    item: dict[str, Any] = {"name": fields.get("name", "").strip(), "kind": kind}
    if kind == "odbc":
        return item | {"connection": fields.get("connection", ""),
                       "statements": {e: sql for e in EVENT_KINDS
                                      if (sql := fields.get(f"stmt.{e}", "").strip())}}
    timeout = fields.get("timeout_s", "").strip() or "10"
    if kind == "soap":
        return item | {
            "wsdl_url": fields.get("wsdl_url", "").strip(),
            "username": fields.get("username", "").strip() or None,
            "password": fields.get("password", ""),
            "timeout_s": timeout,
            "transient_fault_codes": list(parse_list(fields.get("transient_fault_codes", ""))),
            "operations": {e: {"operation": op, "fields": parse_mapping(fields.get(f"fields.{e}", ""))}
                           for e in EVENT_KINDS if (op := fields.get(f"op.{e}", "").strip())}}
    return item | {"url": fields.get("url", "").strip(), "secret": fields.get("secret", ""),
                   "events": [e for e in events if e in EVENT_KINDS], "timeout_s": timeout}


def with_target(stored: Integrations, item: dict[str, Any], original: str) -> dict[str, Any]:
    """The whole document with `item` added, or replacing the target first named `original`.

    A secret left empty or masked keeps the original target's value, also across a rename.
    """
    name = item["name"]
    if name != original and name in stored.targets:
        raise ValueError("an integration target with this name exists")
    doc = to_dict(stored)
    old = next((t for t in doc["targets"] if t["name"] == original), None)
    secret = SECRET_FIELD[item["kind"]]
    if old is not None and old["kind"] == item["kind"] and item.get(secret) in ("", None, MASK):
        item = item | {secret: old[secret]}
    targets = [item if t["name"] == original else t for t in doc["targets"]]
    if old is None:
        targets.append(item)
    return doc | {"targets": targets}


def without_target(stored: Integrations, name: str) -> dict[str, Any]:
    doc = to_dict(stored)
    return doc | {"targets": [t for t in doc["targets"] if t["name"] != name]}


def options_from_form(
    stored: Integrations, fields: Mapping[str, str], services: Sequence[str]
) -> dict[str, Any]:
    """The document with every service's email options and the speech models from the form."""
    doc = to_dict(stored)
    email = dict(doc["email"])
    for service in services:
        width = fields.get(f"email.{service}.sample_width", "").strip()
        wait = fields.get(f"email.{service}.transcript_wait_s", "").strip()
        if width or wait:
            current = stored.email_for(service)
            email[service] = {"sample_width": _number(width, current.sample_width),
                              "transcript_wait_s": _number(wait, current.transcript_wait_s)}
    models = {lang: path for lang in stored.models
              if (path := fields.get(f"model.{lang}", "").strip())}
    new_lang, new_path = (fields.get(k, "").strip() for k in ("new_model_lang", "new_model_path"))
    if new_lang or new_path:
        if not (new_lang.isalpha() and 2 <= len(new_lang) <= 3 and new_path):
            raise ValueError("a speech model needs a language code (es, en...) and a directory")
        models[new_lang.lower()] = new_path
    return doc | {"email": email, "models": models}


def _number(text: str, current: float) -> float:
    if not text:
        return current
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
