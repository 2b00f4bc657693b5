"""`--config` pointing at a copy of config.yaml in another folder: paths in it are relative to
that file, from any working directory; a path that points nowhere is one line naming the key,
exit 2, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=180, check=False)


def copy_config(folder: Path, data_dir: str | None) -> Path:
    folder.mkdir(parents=True)
    config = folder / "config.yaml"
    shutil.copy(ROOT / "config.yaml", config)
    if data_dir is not None:
        with config.open("a", encoding="utf-8") as out:
            out.write(f"\nreplay:\n  data_dir: {data_dir}\n")
    return config


def test_a_copy_elsewhere_reads_its_snapshot_relative_to_itself(tmp_path: Path) -> None:
    config = copy_config(tmp_path / "conf", "snapshot")
    shutil.copytree(ROOT / "data", tmp_path / "conf" / "snapshot")
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    relative = os.path.relpath(config, elsewhere)
    done = run(["--config", relative, "ask", "/btc"], elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Bitcoin")


def test_a_copy_without_data_dir_uses_the_bundled_snapshot(tmp_path: Path) -> None:
    config = copy_config(tmp_path / "conf", None)
    done = run(["--config", str(config), "ask", "/brief"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "as of 2026-05-29 (replay snapshot)" in done.stdout


def test_a_data_dir_that_points_nowhere_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = copy_config(tmp_path / "conf", "nope")
    done = run(["--config", str(config), "ask", "/btc"], tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"config error: {config}: replay.data_dir: no snapshot at ")
    assert "Traceback" not in done.stderr and done.stdout == ""
