"""The services handed to every command handler (built by the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from services.readings import ReadingsService
from services.settings import Settings

if TYPE_CHECKING:
    from services.alerts.health import DeliveryMonitor
    from services.alerts.service import AlertService
    from services.charts.service import ChartService
    from services.digest.store import DigestStore
    from services.thesis.service import ThesisService


@dataclass(frozen=True)
class ServiceHub:
    readings: ReadingsService
    settings: Settings
    mode: str  # "replay" or "live"
    asof: date | None  # fixed as-of date in replay; None means today (live)
    charts: ChartService
    alerts: AlertService
    delivery: DeliveryMonitor  # alert outbox and dead letters, for /status
    digest: DigestStore  # daily digest subscriptions, for /digest
    thesis: ThesisService  # the claims scorecard, for /thesis
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # wall clock
