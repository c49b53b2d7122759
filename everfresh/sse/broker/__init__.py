"""Fan event frames out to each stream's bounded mailbox, in-process or through Redis.

This package is the only code that knows how streams wait (gevent): `mailbox` holds one
stream's frames, `local` delivers to this process's streams in commit order (by
`everfresh.sse.ordering`, pure logic), `redis_fanout` carries events between workers and
hosts (`redis_cluster` through a Redis Cluster's sharded pub/sub).
"""

from everfresh.sse.broker.local import Broker, Draining, Envelope
from everfresh.sse.broker.mailbox import Closed, Subscriber
from everfresh.sse.broker.redis_cluster import RedisClusterBroker
from everfresh.sse.broker.redis_fanout import RedisBroker

__all__ = [
    "Broker",
    "Closed",
    "Draining",
    "Envelope",
    "RedisBroker",
    "RedisClusterBroker",
    "Subscriber",
]
