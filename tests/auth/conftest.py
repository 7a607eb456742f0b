"""Fixtures of the API key and role tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


def _saved_root() -> tuple[list[logging.Handler], int]:
    root = logging.getLogger()
    return list(root.handlers), root.level


def _restore_root(saved: tuple[list[logging.Handler], int]) -> None:
    root = logging.getLogger()
    root.handlers, level = saved
    root.setLevel(level)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger back after a test that built its own app (create_app replaces it)."""
    saved = _saved_root()
    yield
    _restore_root(saved)


@pytest.fixture
def app_stdout(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Capture what an app built inside the test logs to stdout.

    The app's log handler writes to the stdout of the moment it was built, here the capture
    stream; the root logger is put back before that stream closes, so a late line from a
    driver thread cannot land in a closed file.
    """
    saved = _saved_root()
    yield capsys
    _restore_root(saved)
