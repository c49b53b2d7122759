"""Read the event log once for every stream that needs the same page at the same moment."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from everfresh.batching import Batcher
from everfresh.eventlog.models import log_position
from everfresh.extensions import db

# A page of a replay: which scope (None: every company), after which id, how many events.
PageKey = tuple[str | None, int, int]
# Reads one page: (event_id, company_id, limit) -> [(id, frame), ...], oldest first.
ReadPage = Callable[[int, str | None, int], list[tuple[int, bytes]]]


class SharedReads:
    """Coalesce the log reads of streams connecting together into one query per distinct read.

    After a deploy a worker's clients come back at once, most of them resuming the same
    company from the same id: each distinct page is read once and handed to all of them,
    and the log's position, which every new stream needs, is read once per batch. The
    reads run in an app context of their own, so no stream ever holds a connection.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._pages: Batcher[tuple[PageKey, ReadPage], list[tuple[int, bytes]]] = Batcher(
            self._read_pages
        )
        self._positions: Batcher[None, int] = Batcher(self._read_position)

    @property
    def queries(self) -> int:
        """Return how many batches of pages and positions have been read so far."""
        return self._pages.lookups + self._positions.lookups

    def page(
        self, read_page: ReadPage, company_id: str | None, event_id: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """Return `read_page(event_id, company_id, limit)`, read once for all who ask it now."""
        return self._pages.ask(((company_id, event_id, limit), read_page))

    def log_position(self) -> int:
        """Return the id of the last committed event, read after this call began."""
        return self._positions.ask(None)

    def _read_pages(self, asked: list[tuple[PageKey, ReadPage]]) -> list[list[tuple[int, bytes]]]:
        distinct = dict(reversed(asked))
        with self.app.app_context():
            try:
                read = {
                    (company_id, event_id, limit): read_page(event_id, company_id, limit)
                    for (company_id, event_id, limit), read_page in distinct.items()
                }
            finally:
                db.session.remove()
        return [read[key] for key, _ in asked]

    def _read_position(self, asked: list[None]) -> list[int]:
        with self.app.app_context():
            try:
                position = log_position()
            finally:
                db.session.remove()
        return [position] * len(asked)
