"""Read the event log once for every stream that needs the same page at the same moment."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from everfresh.batching import Batcher
from everfresh.eventlog.models import LogPosition, log_position_of
from everfresh.extensions import db
from everfresh.sse.frames import EventFrame

# A page of a replay: which scope (None: every company), after which id, how many events.
PageKey = tuple[str | None, int, int]
# Reads one page: (event_id, company_id, limit) -> its frames, oldest first.
ReadPage = Callable[[int, str | None, int], list[EventFrame]]


class SharedReads:
    """Coalesce the log reads of streams connecting together into one query per distinct read.

    After a deploy a worker's clients come back at once, most of them resuming the same
    company from the same id: each distinct page is read once and handed to all of them,
    and the log's position, which every new stream needs, once per company and batch. The
    reads run in an app context of their own, so no stream ever holds a connection.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._pages: Batcher[tuple[PageKey, ReadPage], list[EventFrame]] = Batcher(self._read_pages)
        self._positions: Batcher[str | None, LogPosition] = Batcher(self._read_positions)

    @property
    def queries(self) -> int:
        """Return how many batches of pages and positions have been read so far."""
        return self._pages.lookups + self._positions.lookups

    def page(
        self, read_page: ReadPage, company_id: str | None, event_id: int, limit: int
    ) -> list[EventFrame]:
        """Return `read_page(event_id, company_id, limit)`, read once for all who ask it now."""
        return self._pages.ask(((company_id, event_id, limit), read_page))

    def log_position(self, company_id: str | None) -> LogPosition:
        """Return the log's last event id and the company's sequence, read after this call began."""
        return self._positions.ask(company_id)

    def _read_pages(self, asked: list[tuple[PageKey, ReadPage]]) -> list[list[EventFrame]]:
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

    def _read_positions(self, companies: list[str | None]) -> list[LogPosition]:
        with self.app.app_context():
            try:
                read = {company: log_position_of(company) for company in dict.fromkeys(companies)}
            finally:
                db.session.remove()
        return [read[company] for company in companies]
