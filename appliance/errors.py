"""The appliance's error tree. Adapters map foreign exceptions into it at the seam.

    ApplianceError                  every error we raise on purpose; carries a stable error_id
    ├── ConfigError                 a static config file or business setting is invalid
    ├── StoreError                  the store refused or is unreachable
    ├── DeliveryError               an email, webhook or transcription could not be delivered
    │   ├── TransientDeliveryError  retry later (4xx SMTP, connection refused, timeout)
    │   └── PermanentDeliveryError  do not retry (5xx SMTP, rejected payload)
    ├── ExportError                 an ODBC / SOAP export failed (transient flag says whether to retry)
    ├── MediaError                  audio could not be decoded, encoded, played or recorded
    └── SipError                    a SIP transaction failed (timeout, negative final response)

Workers retry only errors that say they are transient.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """Base of every error the appliance raises on purpose."""

    error_id = "appliance-error"
    transient = False


class ConfigError(ApplianceError):
    error_id = "config-invalid"


class StoreError(ApplianceError):
    error_id = "store-error"
    transient = True


class DeliveryError(ApplianceError):
    error_id = "delivery-failed"


class TransientDeliveryError(DeliveryError):
    error_id = "delivery-transient"
    transient = True


class PermanentDeliveryError(DeliveryError):
    error_id = "delivery-permanent"
    transient = False


class ExportError(ApplianceError):
    error_id = "export-failed"

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class MediaError(ApplianceError):
    error_id = "media-error"


class SipError(ApplianceError):
    error_id = "sip-error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
