"""Run two instances of two workers on a real Redis Cluster: sharded fan-out, keys, failover."""

from __future__ import annotations

import re
import time

import pytest
import redis

from everfresh.redis_clients import cluster_node_urls, limits_storage_uri, redis_client
from tests.live import LiveServer, SSEStream, prepare_database
from tests.test_scale_out import booking_ids

pytestmark = pytest.mark.live

STAFF = {"everfresh": "staff@everfresh.test", "brighthome": "staff@brighthome.test"}


@pytest.fixture
def cluster_settings(redis_cluster, redis_prefix) -> dict[str, str]:
    """Return the settings of a multi-worker instance on the session's Redis Cluster."""
    return {
        "REDIS_URL": redis_cluster.url,
        "REDIS_CLUSTER": "true",
        "REDIS_PREFIX": redis_prefix,
        "WEB_CONCURRENCY": "2",
        "SSE_MAX_STREAMS_PER_USER": "100",
        # Streams a client closed are noticed at the next heartbeat.
        "SSE_HEARTBEAT_SECONDS": "1",
    }


def open_stream(server: LiveServer, token: str) -> SSEStream:
    stream = server.stream(token)
    assert stream.status == 200
    assert stream.next_frame(timeout=10).data is not None
    return stream


def labelled_metric(server: LiveServer, name: str, **labels: str) -> float:
    """Read one labelled metric from /metrics, summed over workers; 0 when never counted."""
    text = server.request("GET", "/metrics").body.decode()
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    match = re.search(rf"^{name}\{{{wanted}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def company_id(server: LiveServer, token: str) -> str:
    return server.request("GET", "/auth/me", token=token).body["company_id"]


def shard_subscribers(redis_cluster, channel: str) -> int:
    """Return how many connections the cluster has subscribed to a shard channel."""
    node = redis.Redis(port=redis_cluster.master_of(channel))
    [(_name, count)] = node.execute_command("PUBSUB SHARDNUMSUB", channel)
    return count


@pytest.mark.parametrize(
    ("url", "cluster", "expected"),
    [
        ("redis://10.0.0.5:6379/0", False, "redis://10.0.0.5:6379/0"),
        ("redis://10.0.0.5:6379/0", True, "redis+cluster://10.0.0.5:6379"),
        ("redis://:secret@node-1:7000", True, "redis+cluster://:secret@node-1:7000"),
        ("rediss://user:secret@node-1:7000/0", True, "redis+cluster://user:secret@node-1:7000"),
        (
            "redis://:s@node-1:7000,node-2:7000/0",
            True,
            "redis+cluster://:s@node-1:7000,node-2:7000",
        ),
    ],
)
def test_login_limits_are_stored_through_the_matching_limits_scheme(url, cluster, expected):
    assert limits_storage_uri(url, cluster) == expected


def test_the_setting_chooses_a_cluster_client_or_a_single_server_client(redis_cluster):
    single = redis_client("redis://127.0.0.1:1/0", cluster=False, timeout=1)
    assert type(single) is redis.Redis
    assert single.connection_pool.connection_kwargs["socket_timeout"] == 1

    client = redis_client(redis_cluster.one_node_url, cluster=True, timeout=1)
    assert type(client) is redis.RedisCluster
    # Found through one node: every master of the cluster.
    assert sorted(node.port for node in client.get_primaries()) == redis_cluster.master_ports()
    client.close()


@pytest.mark.parametrize(
    ("url", "nodes"),
    [
        ("redis://node-1:7000/0", ["redis://node-1:7000/0"]),
        (
            "rediss://user:secret@node-1:7000,node-2:7001,node-3/0",
            [
                "rediss://user:secret@node-1:7000/0",
                "rediss://user:secret@node-2:7001/0",
                "rediss://user:secret@node-3/0",
            ],
        ),
    ],
)
def test_a_cluster_url_may_name_several_nodes(url, nodes):
    assert [node.geturl() for node in cluster_node_urls(url)] == nodes


def test_a_worker_starts_while_the_first_node_named_is_down(
    live_server, postgres_url, redis_cluster, cluster_settings
):
    prepare_database(postgres_url)
    first_named = redis_cluster.ports[0]
    redis_cluster.kill(first_named)
    try:
        redis_cluster.wait_for_failover(first_named)
        # Both workers boot now, learning the layout from the nodes named after it.
        server = live_server(postgres_url, **cluster_settings)
        token = server.login(STAFF["everfresh"])
        streams = [open_stream(server, token) for _ in range(4)]
        booking = server.create_booking(token)["booking_id"]
        for stream in streams:
            assert booking_ids(stream, 1) == [booking]
            stream.close()
        assert server.process.poll() is None
    finally:
        redis_cluster.revive(first_named)


def test_each_company_reaches_only_its_streams_and_workers_hear_only_their_companies(
    live_server, postgres_url, redis_cluster, cluster_settings, redis_prefix
):
    prepare_database(postgres_url)
    first = live_server(postgres_url, **cluster_settings)
    second = live_server(postgres_url, **cluster_settings)
    tokens = {company: first.login(email) for company, email in STAFF.items()}
    # One stream per company on the first instance: whichever worker takes it, exactly one
    # worker there hears each company.
    on_first = {company: [open_stream(first, token)] for company, token in tokens.items()}
    on_second = {
        company: [open_stream(second, token) for _ in range(3)] for company, token in tokens.items()
    }
    everyone = open_stream(second, second.login("superadmin@everfresh.test"))

    created = {
        "everfresh": [
            first.create_booking(tokens["everfresh"])["booking_id"],
            second.create_booking(tokens["everfresh"])["booking_id"],
            first.create_booking(tokens["everfresh"])["booking_id"],
        ],
        "brighthome": [
            second.create_booking(tokens["brighthome"])["booking_id"],
            first.create_booking(tokens["brighthome"])["booking_id"],
        ],
    }
    for company, ids in created.items():
        for stream in on_first[company] + on_second[company]:
            assert booking_ids(stream, len(ids)) == ids
    every_booking = created["everfresh"] + created["brighthome"]
    assert sorted(booking_ids(everyone, len(every_booking))) == sorted(every_booking)

    # A later booking per company as a marker: a duplicate or a stray would arrive before it.
    markers = {
        company: first.create_booking(token)["booking_id"] for company, token in tokens.items()
    }
    for company, marker in markers.items():
        for stream in on_first[company] + on_second[company]:
            assert booking_ids(stream, 1) == [marker]
    assert sorted(booking_ids(everyone, 2)) == sorted(markers.values())

    published = len(every_booking) + len(markers)
    received = "everfresh_broker_messages_received_total"
    unneeded = "everfresh_broker_messages_unneeded_total"
    # Each company's channel reached one worker of the first instance; with a subscription to
    # every company both workers would have heard each event.
    assert labelled_metric(first, received, channel="company") == published
    assert labelled_metric(first, received, channel="all") == 0
    # Only the worker holding the superadmin stream hears the all-companies channel.
    assert labelled_metric(second, received, channel="all") == published
    for server in (first, second):
        for channel in ("company", "all"):
            assert labelled_metric(server, unneeded, channel=channel) == 0
    assert (
        first.metric("everfresh_events_published_total")
        + second.metric("everfresh_events_published_total")
        == published
    )

    # Each worker left a company's channel after its last stream of that company closed.
    channels = {
        company: f"{redis_prefix}:events:{company_id(first, token)}"
        for company, token in tokens.items()
    }
    # One worker of the first instance, one or both of the second.
    assert shard_subscribers(redis_cluster, channels["brighthome"]) in (2, 3)
    for stream in on_first["brighthome"] + on_second["brighthome"]:
        stream.close()
    deadline = time.monotonic() + 20
    while shard_subscribers(redis_cluster, channels["brighthome"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shard_subscribers(redis_cluster, channels["brighthome"]) == 0
    assert shard_subscribers(redis_cluster, channels["everfresh"]) in (2, 3)


def test_leases_denylist_and_login_limits_live_in_the_cluster(
    live_server, postgres_url, redis_cluster, cluster_settings, redis_prefix
):
    prepare_database(postgres_url)
    server = live_server(
        postgres_url,
        **{
            **cluster_settings,
            "SSE_MAX_STREAMS_PER_USER": "1",
            "LOGIN_RATE_LIMIT_PER_ACCOUNT": "3/minute",
        },
    )
    assert server.request("GET", "/readyz").status == 200
    token = server.login(STAFF["everfresh"])
    cluster = redis.RedisCluster.from_url(redis_cluster.one_node_url)
    with open_stream(server, token):
        # The lease is shared by both workers, wherever the second stream lands.
        for _ in range(4):
            with server.stream(token) as refused:
                assert refused.status == 429
        # The lease lives while its stream does: a clean close gives the slot back at once.
        assert list(cluster.scan_iter(match=f"{redis_prefix}:streams:*"))
    assert server.request("POST", "/auth/logout", token=token).status == 204
    assert server.request("GET", "/auth/me", token=token).status == 401

    server.login(STAFF["everfresh"])
    assert server.login(STAFF["everfresh"])
    refused = server.request(
        "POST", "/auth/login", {"email": STAFF["everfresh"], "password": "everfresh-demo"}
    )
    assert refused.status == 429

    kinds = {key.decode().split(":")[1] for key in cluster.scan_iter(match=f"{redis_prefix}:*")}
    assert kinds == {"revoked-token", "login-limits"}
    cluster.close()


def test_after_a_master_is_killed_every_booking_reaches_every_stream_once(
    live_server, postgres_url, redis_cluster, cluster_settings, redis_prefix
):
    prepare_database(postgres_url)
    first = live_server(postgres_url, **cluster_settings)
    second = live_server(postgres_url, **cluster_settings)
    token = first.login(STAFF["everfresh"])
    streams = [open_stream(server, token) for server in (first, second) for _ in range(2)]
    streams.append(open_stream(second, second.login("superadmin@everfresh.test")))

    before = [first.create_booking(token)["booking_id"]]
    for stream in streams:
        assert booking_ids(stream, 1) == before

    channel = f"{redis_prefix}:events:{company_id(first, token)}"
    master = redis_cluster.master_of(channel)
    redis_cluster.kill(master)
    try:
        during = [server.create_booking(token)["booking_id"] for server in (first, second)]
        redis_cluster.wait_for_failover(master)
        after = [server.create_booking(token)["booking_id"] for server in (second, first)]

        expected = during + after
        for stream in streams:
            received = booking_ids(stream, len(expected), timeout=30)
            assert sorted(received) == sorted(expected)
        marker = first.create_booking(token)["booking_id"]
        for stream in streams:
            # Nothing arrives twice: the next event after the four is the marker.
            assert booking_ids(stream, 1, timeout=30) == [marker]
            stream.close()
    finally:
        redis_cluster.revive(master)
