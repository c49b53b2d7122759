"""Define the application's blinker signals, the seam between writing features and readers."""

from blinker import Namespace

_signals = Namespace()

# Sent after a booking and its event-log row are committed.
# Keyword arguments: event (everfresh.eventlog.models.Event), the committed log row.
booking_created = _signals.signal("booking-created")

# Sent after a change to a booking and its event-log row are committed (never for a PATCH
# that changed nothing). Keyword arguments: event (everfresh.eventlog.models.Event), the
# committed log row.
booking_updated = _signals.signal("booking-updated")
