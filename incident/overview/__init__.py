"""The overview room."""
