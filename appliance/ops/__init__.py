"""Operating the appliance: backup and restore, settings export/import, retention, health."""
