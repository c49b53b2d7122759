"""The staff board: the page the backend serves at `/` to watch bookings arrive live."""

from everfresh.board.views import bp

__all__ = ["bp"]
