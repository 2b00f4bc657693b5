"""Failures that are not the user's fault but still deserve a plain one-line answer."""


class Unavailable(Exception):
    """The data is not there right now (not collected yet, store unreachable)."""
