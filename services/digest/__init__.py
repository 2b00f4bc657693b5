"""The daily digest: per-chat schedule, the scheduler that enqueues it into the alert outbox."""
