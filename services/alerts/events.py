"""The contract between the evaluator (producer) and the notifier workers (consumers)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


def destination_id(platform: str, chat_id: str) -> str:
    """'telegram:-100123', 'discord:987', 'console:console'."""
    return f"{platform}:{chat_id}"


def split_destination(destination: str) -> tuple[str, str]:
    platform, _, chat_id = destination.partition(":")
    if not platform or not chat_id:
        raise ValueError(f"bad destination {destination!r}; expected platform:chat_id")
    return platform, chat_id


@dataclass(frozen=True)
class AlertEvent:
    """One message for one destination. `event_id` is unique per rule transition, so
    (event_id, destination) is the idempotency key of a delivery."""

    event_id: str
    rule_id: str
    kind: str  # "firing" | "resolved" | "limit" | "digest" | "muted" (a mute's summary)
    destination: str
    text: str
    created_at: str
    chart: str = ""  # optional chart name to attach where the platform allows images
    layout: str = ""  # optional structured reply (JSON, handlers.reply) a platform renders

    def to_fields(self) -> dict[str, str]:
        """Flat string fields for XADD."""
        return {"event": json.dumps(asdict(self), separators=(",", ":"))}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> AlertEvent:
        return cls(**json.loads(fields["event"]))


@dataclass(frozen=True)
class RuleEvent:
    """One rule transition, written by the evaluator with the rule's new state; workers
    fan it out to the rule's subscribers as one AlertEvent each (same `event_id`)."""

    event_id: str
    rule_id: str
    kind: str
    text: str
    created_at: str
    metrics: tuple[str, ...] = ()  # the rule's metrics: which chart to attach

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> RuleEvent:
        body = json.loads(raw)
        body["metrics"] = tuple(body.get("metrics", ()))
        return cls(**body)
