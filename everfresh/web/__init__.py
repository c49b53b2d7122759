"""HTTP plumbing every feature shares: CORS, proxies, headers, logs, input checks and paging."""
