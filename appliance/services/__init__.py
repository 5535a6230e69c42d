"""Services layer of the appliance (see docs/ARCHITECTURE.md)."""
