"""The plume room."""
