"""Fixtures of the program events tests (personas and sites: tests/conftest.py)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _fixed_today():
    """Tuesday 15 December 2026, mid-morning in the program's time zone."""
    with time_machine.travel(datetime(2026, 12, 15, 10, 0, tzinfo=NY), tick=False):
        yield
