"""Typed settings: config.yaml validated once at start; secrets only from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.alerts.config import AlertsConfig
from services.baskets import Baskets
from services.bundle import snapshot_dir
from services.digest.config import DigestSettings
from services.sources.live import LiveSourcesConfig
from services.thesis.config import ThesisConfig


class ConfigError(Exception):
    """config.yaml is missing, unreadable or names a bad key/value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Strict):
    prefix: str = Field("fw:", min_length=1, max_length=32)


class ReplaySettings(_Strict):
    data_dir: Path | None = None  # None: the snapshot bundled with the package


class CollectorSettings(_Strict):
    interval_seconds: int = Field(300, ge=10, le=86400)


class TelegramSettings(_Strict):
    mode: str = Field("polling", pattern="^(polling|webhook)$")
    webhook_url: str | None = None  # public URL Telegram posts updates to (webhook mode)
    listen_host: str = "127.0.0.1"  # aiohttp server for the webhook and /healthz
    listen_port: int = Field(8080, ge=1, le=65535)
    webhook_path: str = Field("/telegram", pattern="^/")
    # Updates PTB handles at once; far above ~32, its HTTP pool's per-request bookkeeping
    # costs more than the concurrency gains (BENCHMARKS.md, command path).
    concurrent_updates: int = Field(32, ge=1, le=256)
    # HTTP connections to the Bot API. httpx walks its whole pool on every request: a pool
    # grown to 31 connections in a burst cost 3.0 ms of CPU per command, 9 cost 2.1 ms
    # (BENCHMARKS.md, command path). Sends beyond the pool wait for a free connection.
    connections: int = Field(16, ge=1, le=256)


class DiscordSettings(_Strict):
    guild_ids: list[int] = []  # instant per-guild command sync; empty = global sync
    shards: int | None = Field(None, ge=1)
    # This process's shards (of `shards`), so each process can run its own; none = all.
    shard_ids: list[int] | None = None

    @model_validator(mode="after")
    def _shard_ids_within_shards(self) -> DiscordSettings:
        if self.shard_ids is None:
            return self
        if self.shards is None:
            raise ValueError("discord.shard_ids needs discord.shards (the total shard count)")
        bad = [i for i in self.shard_ids if not 0 <= i < self.shards]
        if bad or not self.shard_ids or len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError(f"discord.shard_ids must be distinct numbers 0..{self.shards - 1}"
                             f" (got {self.shard_ids})")
        return self


class Settings(_Strict):
    mode: str = Field("replay", pattern="^(replay|live)$")
    sources: LiveSourcesConfig = LiveSourcesConfig()
    baskets: Baskets = Baskets()
    store: StoreSettings = StoreSettings()
    replay: ReplaySettings = ReplaySettings()
    collector: CollectorSettings = CollectorSettings()
    thesis: ThesisConfig = ThesisConfig()
    alerts: AlertsConfig = AlertsConfig()
    digest: DigestSettings = DigestSettings()
    telegram: TelegramSettings = TelegramSettings()
    discord: DiscordSettings = DiscordSettings()
    root: Path = Path()

    @model_validator(mode="after")
    def _claims_exist(self) -> Settings:
        """A default alert rule over thesis.<n> needs claim n enabled."""
        claims = {c.metric_id for c in self.thesis.enabled()}
        for rule in self.alerts.defaults:
            missing = [m for m in rule.parsed().metrics
                       if m.startswith("thesis.") and m not in claims]
            if missing:
                raise ValueError(f"alerts: rule {rule.id!r}: unknown metric {missing[0]!r} "
                                 "(no enabled thesis claim has that number)")
        return self

    def data_dir(self) -> Path:
        d = self.replay.data_dir
        if d is None:
            return snapshot_dir()
        return d if d.is_absolute() else self.root / d


class Secrets(BaseModel):
    """Read from the environment (and .env); never logged."""

    model_config = ConfigDict(frozen=True)

    redis_url: str | None = None
    telegram_bot_token: str | None = None
    telegram_api_base_url: str | None = None  # e.g. http://127.0.0.1:8081/bot
    telegram_webhook_secret: str | None = None
    discord_bot_token: str | None = None
    discord_api_base_url: str | None = None  # e.g. http://127.0.0.1:8082/api/v10
    coingecko_api_key: str | None = None  # sent as the demo-key header
    coingecko_pro_api_key: str | None = None  # paid plan: pro host, full history
    fred_api_key: str | None = None  # switches FRED from the keyless CSV to the JSON API
    stooq_api_key: str | None = None  # enables the Stooq fallback for equities
    tiingo_api_key: str | None = None  # enables the Tiingo fallback for equities

    def provider_keys(self) -> dict[str, str]:
        return {name.upper(): getattr(self, name) or "" for name in (
            "coingecko_api_key", "coingecko_pro_api_key", "fred_api_key", "stooq_api_key",
            "tiingo_api_key")}

    def __repr__(self) -> str:
        set_names = [k for k, v in self.__dict__.items() if v]
        return f"Secrets(set={set_names})"

    __str__ = __repr__

    @classmethod
    def from_env(cls) -> Secrets:
        return cls(**{name: os.environ.get(name.upper()) or None for name in cls.model_fields})


def load_settings(path: Path) -> Settings:
    """Read and validate config.yaml; errors name the bad key."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return settings_from_dict(raw, root=path.resolve().parent, origin=str(path))


def settings_from_dict(raw: dict[str, Any], root: Path, origin: str = "config") -> Settings:
    try:
        settings = Settings(**raw, root=root)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{origin}: {key}: {err['msg']}") from None
    _check_paths(settings, origin)
    return settings


def _check_paths(settings: Settings, origin: str) -> None:
    """Paths in the config are relative to the config file's folder, so a copy of it works
    from anywhere; one that points nowhere fails here, in one line naming its key."""
    if settings.replay.data_dir is None:
        return
    folder = settings.data_dir()
    if not (folder / "series").is_dir():
        raise ConfigError(f"{origin}: replay.data_dir: no snapshot at {folder} (no series/ "
                          f"folder; a relative path is relative to {settings.root})")
