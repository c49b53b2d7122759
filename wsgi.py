"""Expose the EverFresh app to gunicorn and the `flask` command."""

from config import ConfigurationError, refuse_to_start
from everfresh import create_app

try:
    app = create_app()
except ConfigurationError as error:
    # A wrong setting is the operator's to fix, not a bug: one line saying which, no traceback.
    refuse_to_start(error)
