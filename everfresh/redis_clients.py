"""Connect to Redis: one server, or a Redis Cluster reached through any one of its nodes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Errors a Redis call may raise during an outage. RedisCluster raises RedisClusterException,
# which is no RedisError, when it cannot reach any node at all.
REDIS_ERRORS: tuple[type[Exception], ...] = (
    redis.RedisError,
    redis.exceptions.RedisClusterException,
    OSError,
)


def redis_client(url: str, cluster: bool, timeout: float, **options: Any) -> redis.Redis:
    """Return a client for `url` whose connects and reads give up after `timeout` seconds.

    With `cluster`, `url` names any node; the client learns the cluster's layout from it
    (connecting at once), follows slots as they move and, after a broken connection, reads
    the layout again and retries once, which lands a command on a promoted replica.
    """
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout, **options}
    if cluster:
        options.setdefault("retry", Retry(NoBackoff(), 1))
        return redis.RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def limits_storage_uri(url: str, cluster: bool) -> str:
    """Return the `limits` storage URI for `url`: `redis+cluster://host:port` for a cluster."""
    if not cluster:
        return url
    parts = urlsplit(url)
    return urlunsplit(("redis+cluster", parts.netloc, "", "", ""))
