"""Playbooks are data (TOML files in this folder), not code.

This module only tells the application where the shipped files live.
"""

from pathlib import Path

PLAYBOOK_DIR = Path(__file__).resolve().parent
