"""Upstream error text never quotes an API key back: it is stored and shown to users."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote, quote_plus

import aiohttp
import pytest

from services.redaction import REDACTED, secret_forms
from services.sources.fred import FredSource
from services.sources.http import UpstreamHTTPError, error_snippet
from services.sources.live import build_live_chains
from tests.sources.conftest import Canned, FakeUpstream, MakeClient
from tests.sources.test_live import local_config

KEY = "CG-Fw+Secret/key=42"


def test_every_form_of_a_secret_is_redacted() -> None:
    for form in secret_forms(KEY):
        snippet = error_snippet(f"denied for {form} (check your plan)", [KEY])
        assert snippet == f"denied for {REDACTED} (check your plan)", form
    assert {KEY, quote(KEY, safe=""), quote_plus(KEY)} <= secret_forms(KEY)


def test_a_secret_in_a_json_error_message_or_html_page_is_redacted() -> None:
    body = json.dumps({"error_message": f"api_key {KEY} is not registered"})
    assert error_snippet(body, [KEY]) == f"api_key {REDACTED} is not registered"
    page = f"<html><p>Forbidden: {KEY.replace('+', '&#43;')}</p></html>"
    assert error_snippet(page, [KEY]) == f"Forbidden: {REDACTED}"


def test_url_queries_and_credential_parameters_are_dropped_without_knowing_the_key() -> None:
    body = ("GET https://api.example.org/v1/series?id=DTB3&api_key=abc123def456 failed; "
            "retry with token=zzz999yyy888")
    assert error_snippet(body) == ("GET https://api.example.org/v1/series failed; "
                                   f"retry with token={REDACTED}")


def test_short_values_and_ordinary_text_are_left_alone() -> None:
    assert error_snippet('{"error": "Invalid value for variable series_id"}', ["KEY", ""]) == (
        "Invalid value for variable series_id")


async def test_the_client_redacts_its_secrets_and_credential_parameters(
        upstream: FakeUpstream, make_client: MakeClient) -> None:
    echo = f"Bad Request: api_key={KEY} header={quote(KEY, safe='')} is not registered"
    upstream.serve("/x", Canned(echo.encode(), 400, content_type="text/plain"))
    with pytest.raises(UpstreamHTTPError) as named:  # known only as a parameter named api_key
        await make_client(provider="fred").get_json("/x", {"api_key": KEY})
    with pytest.raises(UpstreamHTTPError) as given:  # known as a secret of the client
        await make_client().with_secrets(KEY).get_json("/x")
    for info in (named, given):
        assert not any(form in str(info.value) for form in secret_forms(KEY)), info.value
        assert "is not registered" in str(info.value)


async def test_fred_source_redacts_its_api_key(upstream: FakeUpstream,
                                               make_client: MakeClient) -> None:
    upstream.serve("/fred/series/observations",
                   Canned(f"unknown key {KEY}".encode(), 400, content_type="text/plain"))
    source = FredSource(make_client("fred"), api_key=KEY, api_base_url=upstream.url)
    with pytest.raises(UpstreamHTTPError, match=f"unknown key {REDACTED}"):
        await source.fetch(date(2024, 1, 2))


async def test_live_sources_redact_every_provider_key(upstream: FakeUpstream,
                                                      session: aiohttp.ClientSession) -> None:
    fred_key = "fredFwSecret0123456789abcdef+/="
    both = f"proxy error: {KEY} {quote_plus(fred_key)}"
    upstream.serve("/stablecoincharts/all", Canned(both.encode(), 403, content_type="text/plain"))
    upstream.serve("/stablecoins", Canned(both.encode(), 403, content_type="text/plain"))
    env = {"COINGECKO_API_KEY": KEY, "FRED_API_KEY": fred_key}
    chains = build_live_chains(session, local_config(upstream.url), env)
    [stablecoins] = [p for c in chains for p in c.providers
                     if p.name == "defillama-stablecoins"]
    with pytest.raises(UpstreamHTTPError) as info:
        await stablecoins.fetch(date(2024, 12, 7), ["stablecoins.total"], date(2024, 1, 1))
    assert str(info.value).endswith(f"proxy error: {REDACTED} {REDACTED}"), info.value
