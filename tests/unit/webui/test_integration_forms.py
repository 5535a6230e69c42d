"""Pure form reading for the integrations page, the settings version field and test addresses."""

from __future__ import annotations

import pytest

from appliance.services.integrations import MASK, Integrations, parse_integrations
from webui import integration_forms as forms
from webui.deps import MAX_VERSION, form_version
from webui.errors import BadForm
from webui.mail_test import check_address

STORED = parse_integrations({"targets": [
    {"name": "crm", "kind": "webhook", "url": "http://crm/x", "secret": "old-secret"},
    {"name": "desk", "kind": "odbc", "connection": "DSN=desk;Pwd=p",
     "statements": {"ticket_created": "INSERT INTO t (a) VALUES (:ticket)"}},
]})


@pytest.mark.parametrize(("text", "expected"), [
    ("a = ticket\nb=caller", {"a": "ticket", "b": "caller"}),
    ("a = ticket, b = caller", {"a": "ticket", "b": "caller"}),
    ("\n  \n", {}),
])
def test_soap_parameters_parse_and_format_back(text: str, expected: dict[str, str]) -> None:
    assert forms.parse_mapping(text) == expected
    assert forms.parse_mapping(forms.format_mapping(expected)) == expected


@pytest.mark.parametrize("text", ["ticket", "= ticket", "a ="])
def test_a_soap_parameter_without_both_sides_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="parameter = field"):
        forms.parse_mapping(text)


def test_each_kind_reads_only_its_fields() -> None:
    odbc = forms.target_from_form({"kind": "odbc", "name": " x ", "connection": "DSN=a",
                                   "stmt.message_left": " SQL ", "stmt.ticket_created": ""}, [])
    assert odbc == {"name": "x", "kind": "odbc", "connection": "DSN=a",
                    "statements": {"message_left": "SQL"}}
    hook = forms.target_from_form({"kind": "webhook", "name": "h", "url": "http://h",
                                   "secret": "s"}, ["message_left", "bogus"])
    assert hook["events"] == ["message_left"] and hook["timeout_s"] == "10"
    soap = forms.target_from_form({"kind": "soap", "name": "s", "wsdl_url": "http://w",
                                   "op.ticket_created": "Create", "fields.ticket_created": "a=ticket",
                                   "transient_fault_codes": "Server, Busy"}, [])
    assert soap["operations"] == {"ticket_created": {"operation": "Create",
                                                     "fields": {"a": "ticket"}}}
    assert soap["transient_fault_codes"] == ["Server", "Busy"] and soap["username"] is None
    with pytest.raises(ValueError):
        forms.target_from_form({"kind": "ftp"}, [])


@pytest.mark.parametrize("secret", ["", MASK])
def test_an_empty_or_masked_secret_keeps_the_stored_one_even_across_a_rename(secret: str) -> None:
    item = {"name": "crm2", "kind": "webhook", "url": "http://crm/y", "secret": secret}
    doc = forms.with_target(STORED, item, "crm")
    assert [t["name"] for t in doc["targets"]] == ["crm2", "desk"]
    assert doc["targets"][0]["secret"] == "old-secret"
    assert parse_integrations(doc).targets["crm2"].url == "http://crm/y"  # type: ignore[union-attr]


def test_a_new_secret_replaces_and_another_kind_never_inherits_one() -> None:
    doc = forms.with_target(STORED, {"name": "crm", "kind": "webhook", "url": "http://c",
                                     "secret": "new"}, "crm")
    assert doc["targets"][0]["secret"] == "new"
    odbc = forms.with_target(STORED, {"name": "crm", "kind": "odbc", "connection": "",
                                      "statements": {}}, "crm")
    assert odbc["targets"][0]["connection"] == ""


def test_a_new_target_cannot_take_an_existing_name_and_removal_drops_one() -> None:
    with pytest.raises(ValueError, match="exists"):
        forms.with_target(STORED, {"name": "desk", "kind": "webhook", "secret": "s"}, "")
    added = forms.with_target(STORED, {"name": "new", "kind": "webhook", "secret": "s"}, "")
    assert [t["name"] for t in added["targets"]] == ["crm", "desk", "new"]
    assert [t["name"] for t in forms.without_target(STORED, "crm")["targets"]] == ["desk"]


def test_email_options_and_models_from_the_form() -> None:
    doc = forms.options_from_form(Integrations(models={"en": "/m/en", "es": "/m/es"}), {
        "email.sales.sample_width": "2", "email.default.transcript_wait_s": "",
        "model.en": "/m/en2", "model.es": " ", "new_model_lang": "PT", "new_model_path": "/m/pt",
    }, ["default", "sales"])
    assert doc["email"] == {"sales": {"sample_width": 2.0, "transcript_wait_s": 30.0}}
    assert doc["models"] == {"en": "/m/en2", "pt": "/m/pt"}
    for bad in ({"new_model_lang": "pt"}, {"new_model_lang": "p1", "new_model_path": "/x"},
                {"email.default.sample_width": "wide"}):
        with pytest.raises(ValueError):
            forms.options_from_form(Integrations(), bad, ["default"])


@pytest.mark.parametrize(("text", "expected"), [("", 0), ("7", 7), (" 12 ", 12),
                                                (str(MAX_VERSION), MAX_VERSION)])
def test_a_form_version_reads(text: str, expected: int) -> None:
    assert form_version({"version": text}) == expected


@pytest.mark.parametrize("text", ["x", "-1", "1e3", str(MAX_VERSION + 1), "9" * 30])
def test_a_forged_form_version_is_a_bad_form(text: str) -> None:
    with pytest.raises(BadForm):
        form_version({"version": text})


@pytest.mark.parametrize("address", ["desk@example.com", "a.b+c@sub.example.cl"])
def test_test_email_addresses_accepted(address: str) -> None:
    assert check_address(f" {address} ") == address


@pytest.mark.parametrize("address", ["", "desk", "a@b", "a@b.cl\nBcc: c@d.cl", "A <a@b.cl>",
                                     "a@b.cl,c@d.cl", "a b@c.cl"])
def test_test_email_addresses_refused(address: str) -> None:
    with pytest.raises(ValueError):
        check_address(address)
