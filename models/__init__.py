"""Transport science for river spills: pure numpy/scipy, no I/O.

This package must stay importable on its own: it imports nothing from
`incident`, textual, sqlmodel or geopy. Callers own files, units and databases.
"""
