"""Serve a reference app with exactly the gevent worker settings of EverFresh's gunicorn.conf.py.

The app itself is named on the command line (`gunicorn -c ... bench.apps.floor:app`). The
EverFresh-only hooks (broker start, the shutdown watcher, the Redis guard) are left out;
everything that shapes how streams are held is the same: worker class, worker count,
worker_connections, keepalive, timeouts and the raised open-file limit.
"""

import os
import resource

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY") or 1)
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "12000"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
timeout = 30
keepalive = 2
preload_app = False
control_socket_disable = True
accesslog = None
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(server):
    """Raise the open-file limit as EverFresh's configuration does."""
    wanted = server.cfg.workers * server.cfg.worker_connections + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
