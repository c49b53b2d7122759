"""Reference apps the harness measures EverFresh against, served by the same gunicorn settings."""
