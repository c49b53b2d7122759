"""EverFresh's benchmark harness (issue 7): live streams, fan-out latency, memory and throughput."""
