"""Expose the EverFresh app to gunicorn and the `flask` command."""

from everfresh import create_app

app = create_app()
