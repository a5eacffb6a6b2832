"""Tests and benches share one polling helper and one private Redis, in tds_testing/
(`waiting.wait_for`, `servers.PrivateRedis`): a second copy drifts (one raised at the
deadline, another returned False; one checked PING, another the port)."""

import ast
import time
from pathlib import Path

import pytest

from tds_testing.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
POLLERS = {"wait_for", "_wait_for", "_wait", "wait_until", "poll_until", "eventually"}


def _python_files():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if not {".venv", "node_modules"} & set(parts):
            yield path


def test_one_polling_helper_and_one_private_redis():
    wrong = []
    for path in _python_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "tds_testing":
            continue
        text = path.read_text()
        if '"redis' + '-server"' in text:
            wrong.append(f"{rel}: starts its own redis-server")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name in POLLERS
                and node.col_offset == 0  # a method (e.g. a receiver's) is its own API
            ):
                wrong.append(f"{rel}:{node.lineno}: def {node.name}")
    assert not wrong, "\n".join(wrong)


def test_wait_for_returns_the_first_true_value():
    values = iter([0, None, "", 7, 8])
    assert wait_for(lambda: next(values), timeout=5, interval=0.01) == 7


def test_wait_for_at_the_deadline_raises_with_what_or_returns_the_false_value():
    started = time.monotonic()
    assert wait_for(lambda: 0, timeout=0.2, interval=0.05) == 0
    with pytest.raises(AssertionError, match="waiting for the thing\nworker log"):
        wait_for(
            lambda: False, timeout=0.2, interval=0.05, what="the thing", log=lambda: "worker log"
        )
    assert 0.4 <= time.monotonic() - started < 5
