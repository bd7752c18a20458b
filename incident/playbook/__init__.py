"""The playbook room."""
