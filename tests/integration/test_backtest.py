"""`python -m bot backtest`: hand-computed crossings on a synthetic and on the real snapshot."""

from __future__ import annotations

import csv
import os
import pty
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, config: Path | None = None,
        stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    cfg = ["--config", str(config)] if config else []
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-m", "bot", *cfg, "backtest", *args], cwd=ROOT, text=True,
        stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
        timeout=120, env=env, check=False)


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    """A snapshot with one BTC series of ten days; returns its config.yaml."""
    closes = [100, 95, 90, 85, 92, 89, 88, 105, 80, 81]
    (tmp_path / "series").mkdir()
    with (tmp_path / "series" / "BTC.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["date", "close", "source"])
        for day, close in enumerate(closes):
            out.writerow([(date(2024, 3, 1) + timedelta(days=day)).isoformat(), close,
                          "coinbase"])
    config = tmp_path / "config.yaml"
    config.write_text(f"replay:\n  data_dir: {tmp_path}\n")
    return config


def test_synthetic_crossings_match_the_hand_computed_list(synthetic: Path) -> None:
    # closes 100 95 90 85 92 89 88 105 80 81 from 2024-03-01; crosses below 91 on day 2
    # (90), back above 91 on day 4 (92, resolves), below again day 5 (89), up day 7 (105),
    # below day 8 (80).
    out = run("btc.price crosses_below 91 resolved=on", "--to", "2024-03-10", config=synthetic)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "2024-03-03 firing btc.price $90 (crosses_below 91)",
        "2024-03-05 resolved btc.price $92 (crosses_below 91)",
        "2024-03-06 firing btc.price $89 (crosses_below 91)",
        "2024-03-08 resolved btc.price $105 (crosses_below 91)",
        "2024-03-09 firing btc.price $80 (crosses_below 91)",
        "3 firings, 2 resolves from 2024-03-01 to 2024-03-10",
    ]
    assert out.stderr == ""  # no progress indicator when stdout is not a terminal


@pytest.mark.parametrize(
    ("rule", "firings"),
    [
        # hysteresis 5: after firing at 90 it re-arms only at >= 96 (105 on 03-08)
        ("btc.price crosses_below 91 hysteresis=5", ["2024-03-03", "2024-03-09"]),
        # for=2d: below 91 from 03-03 through 03-04 only, then 03-06..07 (2 days short),
        ("btc.price below 91 for=2d", []),
        ("btc.price below 91 for=1d", ["2024-03-04", "2024-03-07", "2024-03-10"]),
        # cooldown 5d from 03-03: the 03-06 crossing waits until 03-08, when it is above
        ("btc.price crosses_below 91 cooldown=5d", ["2024-03-03", "2024-03-09"]),
        ("btc.price change_down 10 in 3d", ["2024-03-04", "2024-03-09"]),
        ("btc.price new_ath", ["2024-03-08"]),
    ],
)
def test_options_on_the_synthetic_series(synthetic: Path, rule: str, firings: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(synthetic), "backtest", rule, "--to", "2024-03-10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:10] for line in lines[:-1]] == firings
    assert lines[-1].startswith(f"{len(firings)} firing")


def independent_drawdown_crossings(threshold: float, start: date, end: date) -> list[str]:
    """Plain-Python recomputation from data/series/BTC.csv: close / running max - 1."""
    with (ROOT / "data" / "series" / "BTC.csv").open() as fh:
        rows = [(date.fromisoformat(r["date"]), float(r["close"])) for r in csv.DictReader(fh)]
    peak, previous, found = 0.0, None, []
    for day, close in rows:
        if day > end:
            break
        peak = max(peak, close)
        dd = (close / peak - 1) * 100
        if day >= start and previous is not None and previous >= threshold > dd:
            found.append(day.isoformat())
        previous = dd
    return found


def test_real_snapshot_btc_drawdown_crossings() -> None:
    out = run("btc.drawdown crosses_below -30")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    expected = independent_drawdown_crossings(-30, date(2023, 6, 1), date(2026, 5, 29))
    assert len(expected) >= 3
    assert [line[:10] for line in lines[:-1]] == expected
    assert all(" firing btc.drawdown -3" in line for line in lines[:-1])
    assert lines[-1] == f"{len(expected)} firings, 0 resolves from 2023-06-01 to 2026-05-29"


def test_real_snapshot_window() -> None:
    out = run("btc.drawdown crosses_below -30", "--from", "2025-12-01", "--to", "2026-01-31")
    expected = independent_drawdown_crossings(-30, date(2025, 12, 1), date(2026, 1, 31))
    assert [line[:10] for line in out.stdout.splitlines()[:-1]] == expected
    assert out.stdout.splitlines()[-1].endswith("from 2025-12-01 to 2026-01-31")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["btc.prise below -20"], "error: unknown metric 'btc.prise' (did you mean btc.price?)"),
        (["btc.price sideways 3"], "error: unknown condition 'sideways'"),
        (["btc.price above 1", "--from", "2026-01-01", "--to", "2025-01-01"],
         "error: --from 2026-01-01 is after --to 2025-01-01"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", *args]) == 2
    out = capsys.readouterr()
    assert out.err.startswith(message)
    assert out.err.strip().count("\n") == 0
    assert out.out == ""


def test_progress_only_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        out = run("btc.price above 100000", "--from", "2025-01-01", stdout=follower)
        assert out.returncode == 0
        assert "backtest" in out.stderr and "days" in out.stderr
    finally:
        os.close(leader)
        os.close(follower)
