"""Suite-wide settings. Helpers for real peers live in tests/support/."""
