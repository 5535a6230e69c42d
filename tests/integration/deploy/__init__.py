"""Tests of the shipped prompts, systemd unit, installer and nginx example."""
