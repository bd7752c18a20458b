"""The readiness room."""
