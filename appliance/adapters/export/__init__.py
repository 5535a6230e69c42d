"""Exporting events to internal systems: ODBC, SOAP and signed JSON webhooks."""
