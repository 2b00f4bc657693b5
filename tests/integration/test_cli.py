"""The command line as a user runs it: one-shot `ask`, the terminal chat, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True,
        input=stdin, timeout=60, env=env, check=False)


def test_help_lists_every_subcommand() -> None:
    out = run("--help")
    assert out.returncode == 0
    for sub in ("console", "ask", "collect", "run"):
        assert sub in out.stdout


def test_ask_divergence_answers_with_every_asset() -> None:
    out = run("ask", "/divergence since:2024-01-01")
    assert out.returncode == 0, out.stderr
    for key in ("NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS", "BTC", "ETH",
                "AI basket", "Crypto basket", "Spread", "S&P 500"):
        assert key in out.stdout
    assert "as of 2026-05-29" in out.stdout
    assert "not persistent" in out.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/divergence banana", "unknown window 'banana'"),
        ("/divergence since:2024-13-45", "bad date in 'since:2024-13-45'"),
        ("/divergence " + "x" * 5000, "input too long"),
        ("/nosuchthing", "unknown command /nosuchthing"),
        ("/btc extra", "takes no arguments"),
        ("/divergence since:2030-01-01", "after the as-of date"),
    ],
)
def test_bad_input_gets_one_line_with_usage(text: str, expected: str) -> None:
    out = run("ask", text)
    assert out.returncode == 1
    assert expected in out.stdout
    assert out.stdout.strip().count("\n") == 0
    assert "Traceback" not in out.stdout + out.stderr


def test_asof_before_data_is_a_clear_error() -> None:
    out = run("ask", "--asof", "2020-01-01", "/btc")
    assert out.returncode == 2
    assert "outside the snapshot (2023-06-01 to" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_asof_format() -> None:
    out = run("ask", "--asof", "2024-99-01", "/btc")
    assert out.returncode == 2
    assert "bad date" in out.stderr
    assert "Traceback" not in out.stderr


def test_console_session() -> None:
    out = run("console", stdin="/btc\ndivergence ytd\n/divergence banana\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert "Bitcoin" in out.stdout
    assert "Divergence year to date (2026)" in out.stdout
    assert "unknown window 'banana'" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("baskets:\n  ai: [NVDA, BANANA]\n")
    out = run("--config", str(bad), "ask", "/btc")
    assert out.returncode == 2
    assert "baskets.ai" in out.stderr and "BANANA" in out.stderr


def test_the_readme_shows_the_brief_the_bot_gives() -> None:
    """The README's sample /brief is the bot's own answer (regenerate it with
    `bash scripts/readme_assets.sh` when /brief changes)."""
    out = run("ask", "/brief")
    assert out.returncode == 0, out.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```\n{out.stdout.rstrip()}\n```" in readme
    brief = (ROOT / "docs" / "brief.txt").read_text(encoding="utf-8")
    assert brief.rstrip() == out.stdout.rstrip()
