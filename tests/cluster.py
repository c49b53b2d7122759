"""Run a real six-node Redis Cluster (three masters, three replicas) on free loopback ports."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.live import free_port

NODES = 6
# Short, so a killed master's replica takes over within a few seconds.
NODE_TIMEOUT_MS = 1000


class RedisClusterServers:
    """Six redis-server processes joined into one cluster, each with its own directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # The bus port is given explicitly: port + 10000 may lie above 65535 or be taken.
        self.ports = [free_port() for _ in range(NODES)]
        self.bus_ports = [free_port() for _ in range(NODES)]
        self.processes: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        """Return a URL naming every node, as an operator would list the seeds in REDIS_URL."""
        return "redis://" + ",".join(f"127.0.0.1:{port}" for port in self.ports) + "/0"

    @property
    def one_node_url(self) -> str:
        """Return a URL naming the first node only."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> None:
        """Start every node, join them into a cluster and wait until it serves every slot."""
        for port, bus_port in zip(self.ports, self.bus_ports, strict=True):
            self._write_config(port, bus_port)
            self._start_node(port)
        for port in self.ports:
            self._wait_for_ping(port)
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses]
            + ["--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_until_healthy()

    def _write_config(self, port: int, bus_port: int) -> None:
        node_dir = self.directory / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        (node_dir / "redis.conf").write_text(
            "\n".join(
                [
                    f"port {port}",
                    f"cluster-port {bus_port}",
                    "bind 127.0.0.1",
                    f"dir {node_dir}",
                    "cluster-enabled yes",
                    "cluster-config-file nodes.conf",
                    f"cluster-node-timeout {NODE_TIMEOUT_MS}",
                    # Replicas copy their master at once, not after the default 5 s wait.
                    "repl-diskless-sync-delay 0",
                    'save ""',
                    "appendonly no",
                    "logfile node.log",
                    "",
                ]
            )
        )

    def _start_node(self, port: int) -> None:
        self.processes[port] = subprocess.Popen(
            ["redis-server", str(self.directory / str(port) / "redis.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _wait_for_ping(self, port: int, timeout: float = 10) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {port} did not start")

    def running_ports(self) -> list[int]:
        """Return the ports of the nodes whose process is alive."""
        return [port for port, process in self.processes.items() if process.poll() is None]

    def wait_until_healthy(self, timeout: float = 30) -> None:
        """Wait until every running node says the cluster is ok and every master is reachable."""
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if all(self._node_ready(port) for port in self.running_ports()) and all(
                    port in self.running_ports() for port in self.master_ports()
                ):
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the Redis cluster did not become healthy")

    @staticmethod
    def _node_ready(port: int) -> bool:
        # A replica that has not copied its master yet could not take over from it.
        import redis

        node = redis.Redis(port=port)
        if node.execute_command("CLUSTER INFO")["cluster_state"] != "ok":
            return False
        replication = node.info("replication")
        return replication["role"] == "master" or replication["master_link_status"] == "up"

    def master_ports(self) -> list[int]:
        """Return the ports of the masters that serve slots, as a running node sees them."""
        import redis

        port = self.running_ports()[0]
        slots = redis.Redis(port=port).execute_command("CLUSTER SLOTS")
        return sorted({int(section[2][1]) for section in slots})

    def master_of(self, key: str) -> int:
        """Return the port of the master serving `key`'s slot."""
        import redis

        node = redis.Redis(port=self.running_ports()[0])
        slot = node.execute_command("CLUSTER KEYSLOT", key)
        for start, end, master, *_replicas in node.execute_command("CLUSTER SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise LookupError(f"no master serves slot {slot}")

    def kill(self, port: int) -> None:
        """Kill one node with SIGKILL, as a crash would."""
        process = self.processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def wait_for_failover(self, dead_port: int, timeout: float = 30) -> None:
        """Wait until a replica has taken over the dead master's slots."""
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if dead_port not in self.master_ports():
                    self.wait_until_healthy(timeout=max(deadline - time.monotonic(), 1))
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"no replica took over from the master on port {dead_port}")

    def revive(self, port: int) -> None:
        """Restart a killed node; it rejoins the cluster as a replica of its successor."""
        self._start_node(port)
        self._wait_for_ping(port)
        self.wait_until_healthy()

    def stop(self) -> None:
        """Kill every node that still runs."""
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
