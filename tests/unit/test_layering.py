"""The layering rule: only bot/ imports the platform SDKs (telegram, discord).

Two checks: the tree as it stands has no platform import in handlers/ or services/, and
ruff's banned-api rule (TID251) rejects one there while still letting bot/ and the
platform end-to-end tests import them, so `ruff check` catches a new one before a test run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = {"telegram", "discord"}
PLATFORM_IMPORTS = "import telegram.ext\nfrom discord import Client\nfrom telegram import Bot\n"


def platform_imports(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.relative_to(root)}:{node.lineno} {name}" for name in names
                  if name.split(".")[0] in PLATFORMS]
    return found


def test_handlers_and_services_import_no_platform_sdk() -> None:
    files = [p for top in ("handlers", "services") for p in (ROOT / top).rglob("*.py")]
    assert len(files) > 50
    assert [hit for path in files for hit in platform_imports(path)] == []


def test_the_scan_sees_a_platform_import(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(PLATFORM_IMPORTS)
    hits = platform_imports(tmp_path / "x.py", root=tmp_path)
    assert hits == ["x.py:1 telegram.ext", "x.py:2 discord", "x.py:3 telegram"]


def banned(filename: str) -> list[str]:
    out = subprocess.run(  # noqa: S603 - this interpreter's ruff, the project's config
        [sys.executable, "-m", "ruff", "check", "--select", "TID251", "--output-format",
         "concise", "--stdin-filename", filename, "-"], cwd=ROOT, input=PLATFORM_IMPORTS,
        capture_output=True, text=True, timeout=60, check=False)
    return [line for line in out.stdout.splitlines() if "TID251" in line]


@pytest.mark.parametrize("filename", ["handlers/market.py", "services/alerts/new.py",
                                      "tests/unit/test_new.py"])
def test_ruff_rejects_a_platform_import_outside_bot(filename: str) -> None:
    assert len(banned(filename)) == 3


@pytest.mark.parametrize("filename", ["bot/telegram/new.py", "bot/discord_app/new.py",
                                      "tests/e2e/test_new.py"])
def test_ruff_lets_bot_and_the_platform_e2e_tests_import_them(filename: str) -> None:
    assert banned(filename) == []
