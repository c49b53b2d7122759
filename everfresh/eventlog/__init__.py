"""The durable event log (outbox) of committed changes."""
