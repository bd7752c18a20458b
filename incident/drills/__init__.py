"""The drills room."""
