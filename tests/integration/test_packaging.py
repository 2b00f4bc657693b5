"""The wheel as a user installs it (`pip install .`, not editable): every subpackage, the
default config and the bundled snapshot inside it, and a `flowwatch` script that answers
from a folder that is not the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "services")
# Left out of the copy the wheel is built from: local state, and build output that
# setuptools would otherwise reuse (a module deleted since the last build stays in build/).
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                    ".*_cache", "charts-out", ".test-results.xml")


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, check=True,  # noqa: S603
                   capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work / "dist"), ".",
         cwd=source)
    (built,) = (work / "dist").glob("flowwatch-*.whl")
    return built


def test_the_wheel_holds_every_module_the_config_and_the_snapshot(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for pkg in PACKAGES
               for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts}
    assert modules - names == set()
    assert "services/alerts/outbox.py" in names  # a subpackage: what the old wheel lacked
    assert "services/bundle/config.yaml" in names
    snapshot = {f"services/bundle/data/series/{p.name}" for p in (ROOT / "data/series").iterdir()}
    assert snapshot and snapshot <= names
    bundled = zipfile.ZipFile(wheel).read("services/bundle/config.yaml")
    assert bundled == (ROOT / "config.yaml").read_bytes()  # a copy, not a link
    assert not any(n.startswith(("tests/", "bench/", "scripts/")) for n in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "flowwatch = bot.cli:entry_point" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_script_answers_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel),
         cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(site)  # ahead of the repository's editable install
    where = subprocess.run(
        [sys.executable, "-c", "import services.bundle as b; print(b.default_config())"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert Path(where.stdout.strip()).is_relative_to(site)
    out = subprocess.run(  # noqa: S603 - the installed console script
        [str(site / "bin" / "flowwatch"), "ask", "/btc"], cwd=elsewhere, env=env,
        capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "BTC price" in out.stdout
    assert "as of 2026-05-29 (replay snapshot)" in out.stdout
