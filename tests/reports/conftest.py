"""Fixtures of the report tests."""

import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Report files are written under a fresh MEDIA_ROOT per test."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
