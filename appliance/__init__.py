"""Desborde: an overflow appliance for contact centres (keep waiting, message, ticket, callback)."""

__version__ = "0.1.0"
