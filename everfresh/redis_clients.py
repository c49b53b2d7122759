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

# Connections one client keeps to a single Redis server, and how long a command waits for
# one when all are in use: long enough to ride out a storm of connects, short enough to
# answer before a browser gives up.
POOL_CONNECTIONS = 50
POOL_WAIT_SECONDS = 5.0


class RedisBusy(Exception):
    """Raised when every pooled connection stayed in use for the whole wait: Redis is busy.

    Deliberately no RedisError: callers that carry on through a Redis outage (accepting
    access tokens unchecked, counting streams locally) must not mistake a busy pool for one.
    """


class WaitingConnectionPool(redis.BlockingConnectionPool):
    """A bounded pool whose callers wait for a free connection, then raise RedisBusy.

    redis-py's default pool opens connections without limit and, once it holds
    `max_connections`, fails the next command at once with a ConnectionError, the same
    class a refused connection raises.
    """

    def get_connection(self, *args: Any, **kwargs: Any) -> redis.connection.Connection:
        """Return a pooled connection, waiting up to `timeout` seconds for one to be free."""
        try:
            return super().get_connection(*args, **kwargs)
        except redis.ConnectionError as error:
            if str(error) == "No connection available.":
                raise RedisBusy(f"no Redis connection free within {self.timeout} s") from error
            raise


def redis_client(
    url: str, cluster: bool, timeout: float, bounded_pool: bool = False, **options: Any
) -> redis.Redis:
    """Return a client for `url` whose connects and reads give up after `timeout` seconds.

    With `bounded_pool`, a single server's client holds at most POOL_CONNECTIONS
    connections and a command waits up to POOL_WAIT_SECONDS for one (then RedisBusy).

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
    if bounded_pool:
        pool = WaitingConnectionPool.from_url(
            url, max_connections=POOL_CONNECTIONS, timeout=POOL_WAIT_SECONDS, **options
        )
        return redis.Redis.from_pool(pool)
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
