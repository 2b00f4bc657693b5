"""The `digest:` section of config.yaml: how often the scheduler looks, and the defaults."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.digest.schedule import ScheduleError, parse_time, parse_zone


class DigestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tick_seconds: float = Field(30.0, ge=1, le=3600)  # how late a digest may go out
    default_time: str = "08:00"  # for `/digest on` without a time
    default_tz: str = "UTC"  # for `/digest on` without a time zone

    @field_validator("default_time")
    @classmethod
    def _time(cls, v: str) -> str:
        try:
            return parse_time(v).strftime("%H:%M")
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("default_tz")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            return parse_zone(v)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None

    def default_at(self) -> time:
        return parse_time(self.default_time)
