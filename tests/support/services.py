"""Services a test needs (PostgreSQL, chromium, Redis): skipped on a laptop, failed under CI."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, available: bool) -> None:
    """Skip a test whose service is missing on a laptop; fail it under CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required under CI but is not available")
    pytest.skip(f"{name} not available")
