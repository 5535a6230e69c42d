"""Email: composing voicemail messages, the SMTP relay and the local .eml spool."""
