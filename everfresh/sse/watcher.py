"""Follow the live event stream from a terminal, as `flask --app wsgi watch` does."""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import click
import httpx
from httpx_sse import ServerSentEvent, connect_sse

DEFAULT_URL = "http://127.0.0.1:8000"
# What each id in a booking event names, and where its name is read.
NAMED = {"customer_id": "/customers", "service_id": "/services", "staff_id": "/staff"}
# The server writes a heartbeat every 30 s by default; a connection silent for much longer
# than that is dead even if TCP has not noticed, so it is dropped and reopened.
READ_TIMEOUT_SECONDS = 75.0
# Waits before reconnecting, when the server has not said (`retry:`) how long to wait.
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


class WatchError(click.ClickException):
    """A problem retrying cannot fix: the command says it in one line and exits 1."""


def base_url_for(bind: str) -> str:
    """Return the URL a client on this host reaches a server listening on `bind` at."""
    host, _, port = bind.rpartition(":")
    if not host or bind.startswith(("unix:", "fd://")) or not port.isdecimal():
        return DEFAULT_URL
    # Listening on every address includes the loopback one.
    host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)
    return f"http://{host}:{port}"


def unreachable(url: str, error: Exception) -> WatchError:
    """Return the one-line refusal for a server that cannot be reached at `url`."""
    return WatchError(
        f"Cannot connect to {url} ({str(error) or error.__class__.__name__}): pass the server's "
        "address with --url, or set EVERFRESH_URL."
    )


class Credentials:
    """Hold the access token, renewing it with the refresh token when it was obtained by login."""

    def __init__(self, client: httpx.Client, token: str | None, email: str | None) -> None:
        self._client = client
        self.access_token = token or ""
        self._refresh_token: str | None = None
        if email is not None:
            password = click.prompt(f"Password for {email}", hide_input=True, err=True)
            tokens = self._post("/auth/login", json={"email": email, "password": password})
            self.access_token = tokens["access_token"]
            self._refresh_token = tokens["refresh_token"]

    def renew(self) -> None:
        """Get a fresh access token after the stream's one expired, or say why not."""
        if self._refresh_token is None:
            raise WatchError("The access token was refused or has expired: pass a fresh --token.")
        self.access_token = self._post(
            "/auth/refresh", headers={"Authorization": f"Bearer {self._refresh_token}"}
        )["access_token"]

    def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.post(path, **kwargs)
        except httpx.TransportError as error:
            raise unreachable(str(self._client.base_url), error) from None
        if response.status_code != 200:
            raise WatchError(f"{path} answered {response.status_code}: {error_message(response)}")
        return response.json()


def error_message(response: httpx.Response) -> str:
    """Return the message of the API's JSON error shape, or the bare status phrase."""
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase


class Names:
    """Read the names of customers, services and staff once each, for lines people read."""

    def __init__(self, client: httpx.Client, credentials: Credentials) -> None:
        self._client = client
        self._credentials = credentials
        self._known: dict[str, str] = {}

    def __call__(self, field: str, identifier: str | None) -> str:
        """Return the quoted name `identifier` stands for, or `-` for none, or the id if unread."""
        if not identifier:
            return "-"
        if identifier not in self._known:
            self._known[identifier] = self._read(NAMED[field], identifier)
        return self._known[identifier]

    def _read(self, collection: str, identifier: str) -> str:
        headers = {"Authorization": f"Bearer {self._credentials.access_token}"}
        try:
            response = self._client.get(f"{collection}/{identifier}", headers=headers)
            name = response.json()["name"] if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            name = None
        # Quoted as JSON, so a name with spaces stays one field and controls stay escaped.
        return json.dumps(name, ensure_ascii=False) if isinstance(name, str) else identifier


def describe(event: ServerSentEvent, names: Callable[[str, str | None], str]) -> str:
    """Return one readable line for a booking event (the raw data for any other event)."""
    try:
        data = event.json()
    except ValueError:
        return f"{event.event} {event.data}"
    if not isinstance(data, dict) or "booking_number" not in data:
        return f"{event.event} {event.data}"
    words = [
        event.event,
        data["booking_number"],
        str(data.get("scheduled_date", ""))[:10],
        str(data.get("scheduled_time_start", "")),
        str(data.get("status", "")),
        f"customer={names('customer_id', data.get('customer_id'))}",
        f"service={names('service_id', data.get('service_id'))}",
        f"staff={names('staff_id', data.get('staff_id'))}",
    ]
    if data.get("changes"):
        words.append("changes=" + ",".join(data["changes"]))
    if event.id:
        words.append(f"id={event.id}")
    return " ".join(words)


def as_json_line(event: ServerSentEvent) -> str:
    """Return one JSON object for an event: its name, id and decoded data."""
    try:
        data: Any = event.json()
    except ValueError:
        data = event.data
    return json.dumps({"event": event.event, "id": event.id or None, "data": data})


class Watcher:
    """Keep one stream open, printing each event, and reconnect with the last id it saw."""

    def __init__(
        self,
        client: httpx.Client,
        credentials: Credentials,
        company_id: str | None,
        show: Callable[[ServerSentEvent], str],
    ) -> None:
        self.client = client
        self.credentials = credentials
        self.params = {"company_id": company_id} if company_id else {}
        self.show = show
        self.last_id: str | None = None
        self.retry_seconds = FIRST_RETRY_SECONDS
        self.connected_once = False

    def run_forever(self) -> None:
        """Watch until interrupted; every reconnect resumes from the last id received."""
        while True:
            try:
                self.watch_once()
            except httpx.TransportError as error:
                if not self.connected_once:
                    # Never reached: a wrong address, not an outage worth waiting out.
                    raise unreachable(str(self.client.base_url), error) from None
                note(f"Connection lost ({error.__class__.__name__}).")
            self.pause()

    def watch_once(self) -> None:
        """Open the stream, print its events until it ends, and adjust the next wait."""
        headers = {"Authorization": f"Bearer {self.credentials.access_token}"}
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        with connect_sse(
            self.client, "GET", "/sse/events", headers=headers, params=self.params
        ) as source:
            if self.refused(source.response):
                return
            for event in source.iter_sse():
                self.receive(event)
        note("The stream ended.")

    def refused(self, response: httpx.Response) -> bool:
        """Handle an answer that is not a stream; return True to reconnect, raise to give up."""
        if response.status_code == 200:
            return False
        response.read()
        if response.status_code == 401:
            self.credentials.renew()
            self.retry_seconds = 0
            return True
        if response.status_code in (429, 502, 503, 504):
            wait = response.headers.get("Retry-After", "")
            self.retry_seconds = float(wait) if wait.isdecimal() else self.retry_seconds
            note(f"The server answered {response.status_code}: {error_message(response)}")
            return True
        raise WatchError(f"The server answered {response.status_code}: {error_message(response)}")

    def receive(self, event: ServerSentEvent) -> None:
        """Print one event and remember what resuming needs (its id, the server's retry)."""
        if event.retry is not None:
            self.retry_seconds = event.retry / 1000
        if event.id:
            self.last_id = event.id
        if not event.data:
            return
        if event.event == "message":
            # The greeting: the stream is open and everything from here on is live.
            self.connected_once = True
            note(f"Connected to {self.client.base_url}; watching for events.")
            self.retry_seconds = FIRST_RETRY_SECONDS
        elif event.event == "server_shutdown":
            note("The server is shutting down; reconnecting.")
        else:
            click.echo(self.show(event))

    def pause(self) -> None:
        """Wait before reconnecting, longer after each failure, with jitter to spread clients."""
        wait = min(self.retry_seconds, MAX_RETRY_SECONDS)
        if wait:
            note(f"Reconnecting in {wait:.1f} s.")
            time.sleep(wait * random.uniform(0.8, 1.2))
        self.retry_seconds = min(
            max(self.retry_seconds * 2, FIRST_RETRY_SECONDS), MAX_RETRY_SECONDS
        )


def note(message: str) -> None:
    """Write a status line to stderr, so that stdout holds only events."""
    click.echo(message, err=True)


def watch(
    url: str, token: str | None, email: str | None, company_id: str | None, as_json: bool
) -> None:
    """Print the live events of the server at `url` until interrupted, reconnecting as needed."""
    # httpx logs every request at INFO: lines of its own among the events, one a name read.
    for logger in ("httpx", "httpcore"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    timeout = httpx.Timeout(10.0, read=READ_TIMEOUT_SECONDS)
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        credentials = Credentials(client, token, email)
        names = Names(client, credentials)
        show = as_json_line if as_json else functools.partial(describe, names=names)
        Watcher(client, credentials, company_id, show).run_forever()
