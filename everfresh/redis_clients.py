"""Connect to Redis: one server, or a Redis Cluster reached through any of the nodes it names."""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode
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

    With `cluster`, `url` names one node or several (`redis://node-1:6379,node-2:6379/0`);
    the client learns the cluster's layout from the first that answers (connecting at once),
    follows slots as they move and, after a broken connection, reads the layout again and
    retries once, which lands a command on a promoted replica.
    """
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout, **options}
    if cluster:
        options.setdefault("retry", Retry(NoBackoff(), 1))
        first, *others = cluster_node_urls(url)
        # A worker that starts while the first node is down learns the layout from another.
        startup_nodes = [ClusterNode(split.hostname, split.port or 6379) for split in others]
        return redis.RedisCluster.from_url(first.geturl(), startup_nodes=startup_nodes, **options)
    return redis.Redis.from_url(url, **options)


def cluster_node_urls(url: str) -> list[SplitResult]:
    """Return one URL per node a cluster's `url` names (hosts separated by commas)."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    prefix = f"{credentials}@" if credentials else ""
    return [parts._replace(netloc=prefix + host) for host in hosts.split(",") if host]


def limits_storage_uri(url: str, cluster: bool) -> str:
    """Return the `limits` storage URI for `url`: `redis+cluster://host:port,...` for a cluster."""
    if not cluster:
        return url
    parts = urlsplit(url)
    return urlunsplit(("redis+cluster", parts.netloc, "", "", ""))
