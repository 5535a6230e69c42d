"""Static settings: one TOML file read once at start into frozen, validated models.

Business settings (services, calendars, menus, prompts, destinations) live in the store; this file
holds only what the process needs before it can reach the store: network, SIP, SMTP, paths, limits.
Secrets may come from files (`*_file` keys) so they stay out of the main config and out of logs.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from appliance.errors import ConfigError

Port = Annotated[int, Field(ge=1, le=65535)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _read_secret(value: SecretStr | None, path: Path | None, what: str) -> SecretStr | None:
    if value is not None and path is not None:
        raise ValueError(f"set either {what} or {what}_file, not both")
    if path is None:
        return value
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"{what}_file {path}: {exc.strerror}") from exc


class NodeSettings(_Section):
    name: str = Field(default="desborde", min_length=1, max_length=64)
    data_dir: Path = Path("var")


class SipAccount(_Section):
    """A registration with the PBX: one per service when the extension registers."""

    service: str = "default"
    registrar: str
    username: str
    auth_username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    expires: int = Field(default=600, ge=60, le=86400)

    @model_validator(mode="after")
    def _secret(self) -> Self:
        secret = _read_secret(self.password, self.password_file, "password")
        if secret is None:
            raise ValueError("a SIP account needs password or password_file")
        object.__setattr__(self, "password", secret)
        return self


class OutboundSettings(_Section):
    """Where callback calls go: usually the PBX, which asks for digest credentials (401/407)."""

    proxy: str | None = None  # "host[:port]"; no proxy: each dial target's own host
    domain: str = "127.0.0.1"  # host part of our From
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    dial_format: str = "sip:{number}@127.0.0.1"  # the callback number (E.164) -> request URI
    caller_id: str = "desborde"  # user part of From when a service has no number of its own

    @field_validator("dial_format")
    @classmethod
    def _has_number(cls, value: str) -> str:
        if "{number}" not in value:
            raise ValueError("dial_format must contain {number}")
        return value

    @model_validator(mode="after")
    def _secret(self) -> Self:
        object.__setattr__(
            self, "password", _read_secret(self.password, self.password_file, "password")
        )
        return self


class SipSettings(_Section):
    mode: Literal["trunk", "register"] = "trunk"
    bind: str = "127.0.0.1"
    port: Port = 5060
    public_address: str | None = None
    rtp_port_min: Port = 20000
    rtp_port_max: Port = 29999
    max_channels: int = Field(default=100, ge=1, le=2000)
    allowed_peers: tuple[str, ...] = ("127.0.0.0/8",)
    invites_per_second_per_source: float = Field(default=20.0, gt=0)
    user_agent: str = "Desborde"
    inband_dtmf: bool = False  # listen for DTMF tones in the audio when no telephone-event agreed
    accounts: tuple[SipAccount, ...] = ()
    outbound: OutboundSettings = OutboundSettings()

    @field_validator("allowed_peers")
    @classmethod
    def _cidrs(cls, peers: tuple[str, ...]) -> tuple[str, ...]:
        for peer in peers:
            try:
                ipaddress.ip_network(peer, strict=False)
            except ValueError:
                raise ValueError(f"{peer!r} is not an IP address or CIDR") from None
        return peers

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.rtp_port_min >= self.rtp_port_max:
            raise ValueError("rtp_port_min must be below rtp_port_max")
        if self.mode == "register" and not self.accounts:
            raise ValueError("mode = 'register' needs at least one [[sip.accounts]] entry")
        return self


class WebSettings(_Section):
    bind: str = "127.0.0.1"
    port: Port = 8080
    public_url: str | None = None
    secure_cookies: bool = False


class StoreSettings(_Section):
    url: str | None = None
    """SQLAlchemy URL; default sqlite:///<data_dir>/desborde.sqlite3."""

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite:///", "postgresql")):
            raise ValueError("store url must start with sqlite:/// or postgresql+psycopg://")
        return url


class SmtpSettings(_Section):
    host: str | None = None
    """No host: every email is written as an .eml file under <data_dir>/mail."""
    port: Port = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    from_address: str = "desborde@localhost"
    timeout_seconds: float = Field(default=30.0, gt=0)
    validate_certs: bool = True

    @model_validator(mode="after")
    def _secret(self) -> Self:
        object.__setattr__(
            self, "password", _read_secret(self.password, self.password_file, "password")
        )
        return self


class LimitsSettings(_Section):
    max_outbound: int = Field(default=4, ge=0, le=500)
    max_recording_seconds: int = Field(default=180, ge=5, le=3600)
    min_free_disk_mb: int = Field(default=200, ge=0)
    delivery_workers: int = Field(default=4, ge=1, le=64)
    transcription_workers: int = Field(default=1, ge=0, le=8)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "text"


class Settings(_Section):
    node: NodeSettings = NodeSettings()
    sip: SipSettings = SipSettings()
    web: WebSettings = WebSettings()
    store: StoreSettings = StoreSettings()
    smtp: SmtpSettings = SmtpSettings()
    limits: LimitsSettings = LimitsSettings()
    log: LogSettings = LogSettings()

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.node.data_dir / 'desborde.sqlite3'}"

    @property
    def recordings_dir(self) -> Path:
        return self.node.data_dir / "recordings"

    @property
    def mail_spool_dir(self) -> Path:
        return self.node.data_dir / "mail"


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(f"[{part}]" if isinstance(part, int) else part for part in loc) or "(top)"


def describe(error: ValidationError) -> str:
    """One line per problem: the dotted key, what is wrong, and the value given."""
    lines = []
    for problem in error.errors(include_url=False):
        where = _location(problem["loc"])
        given = problem.get("input")
        shown = "" if isinstance(given, dict) or "password" in where else f" (got {given!r})"
        lines.append(f"{where}: {problem['msg']}{shown}")
    return "\n".join(lines)


def parse_settings(text: str, source: str = "<config>") -> Settings:
    """Validate TOML text into Settings, or raise ConfigError with every problem named."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}:\n{describe(exc)}") from None


def load_settings(path: Path | None) -> Settings:
    """Read the config file, or return the embedded defaults when no file is given."""
    if path is None:
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_settings(text, str(path))
