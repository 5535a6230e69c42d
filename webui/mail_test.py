"""The integrations page's mail part: the static [smtp] settings as read-only rows (the password
never shown), and one real test email through the mailer the appliance uses for voicemail.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from appliance.errors import ApplianceError
from appliance.services.integrations import MASK, TargetTest
from webui.deps import WebContext

# One plain address: no display name, no spaces, no line breaks (they would forge headers).
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")
DEFAULT_SENDER = "desborde@localhost"


def mail_summary(context: WebContext) -> list[tuple[str, str]]:
    """(label, value) rows describing where email goes; empty when the settings were not handed over."""
    smtp = context.smtp
    if smtp is None:
        return []
    if smtp.host is None:
        spool = "<data_dir>/mail" if context.data_dir is None else str(context.data_dir / "mail")
        return [("Relay", "none: emails are written as .eml files"), ("Spool directory", spool),
                ("From", smtp.from_address)]
    return [("Relay", f"{smtp.host}:{smtp.port}"), ("Security", smtp.security),
            ("Username", smtp.username or ""), ("Password", MASK if smtp.password else ""),
            ("From", smtp.from_address), ("Timeout (s)", f"{smtp.timeout_seconds:g}"),
            ("Check certificates", "yes" if smtp.validate_certs else "no")]


def check_address(text: str) -> str:
    address = text.strip()
    if not _ADDRESS.fullmatch(address) or len(address) > 254:
        raise ValueError("write one email address, like desk@example.com")
    return address


def build_test_email(context: WebContext, to: str, *, sender: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = context.smtp.from_address if context.smtp else DEFAULT_SENDER
    message["To"] = to
    message["Subject"] = f"Desborde test email ({context.node})"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("desborde-test")
    message.set_content(
        f"This is a test email from the Desborde web UI on node {context.node}, sent by {sender}.\n"
        "Voicemail emails travel the same way.\n")
    return message


async def send_test_email(context: WebContext, to: str, *, sender: str, now: datetime) -> TargetTest:
    """Send it; the result says what the relay or the spool answered. ValueError: a bad address."""
    address = check_address(to)
    if context.mailer is None:
        return TargetTest(False, "no mailer is wired to the web UI on this node")
    try:
        await context.mailer.send(build_test_email(context, address, sender=sender, now=now))
    except ApplianceError as exc:
        return TargetTest(False, f"{exc.error_id}: {exc}")
    if context.smtp is not None and context.smtp.host is None:
        return TargetTest(True, f"the test email to {address} was written to the mail spool")
    return TargetTest(True, f"the relay accepted the test email to {address}")

