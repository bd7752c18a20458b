"""incident: offline emergency-monitoring response for river spills."""

__version__ = "0.1.0"
