"""The one place that builds Redis key names.

Every key carries a hash tag so related keys share a Redis Cluster slot:
`{m}` for metric snapshots/history/status.
"""

from __future__ import annotations


class Keys:
    def __init__(self, prefix: str = "fw:") -> None:
        self.prefix = prefix

    def snapshot(self, family: str) -> str:
        return f"{self.prefix}{{m}}:snap:{family}"

    def history(self, series_key: str) -> str:
        return f"{self.prefix}{{m}}:hist:{series_key}"

    def history_index(self) -> str:
        return f"{self.prefix}{{m}}:hist-index"

    def source_status(self) -> str:
        return f"{self.prefix}{{m}}:sources"

    def collection(self) -> str:
        return f"{self.prefix}{{m}}:collection"
