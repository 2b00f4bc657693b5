"""Alerts: rules, edge-triggered evaluation, durable delivery through a Redis Stream outbox."""
