"""The Textual front end. Services never import from here."""
