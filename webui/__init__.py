"""The admin web UI and JSON API (FastAPI + Jinja2)."""
