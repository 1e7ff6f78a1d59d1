"""Every figure test runs on SQLite and on PostgreSQL.

The suite runs on the database DATABASE_URL names (PostgreSQL under CI, SQLite by
default on a laptop). The tests marked `figures` (in tests/reports/ and tests/ssp/) are
run once more here, in a second pytest process, on the other one: on a fresh SQLite
file when this run is on PostgreSQL, and on SSP_FIGURES_POSTGRES_URL when it is on
SQLite (skipped on a laptop without it, failed under CI). A figure that one database
computes differently (a uuid's text, a time zone, an integer division) fails here.
"""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

from ..support.services import require_service

ROOT = Path(__file__).parents[2]
FIGURE_TESTS = ["tests/reports", "tests/ssp"]


def test_the_figure_tests_pass_on_the_other_database_too(memory_tmp_path):
    # The SQLite file (and the test database pytest-django makes beside it) is in memory
    # (tmpfs): its migrations' commits do not wait for the disk.
    if connection.vendor == "postgresql":
        url, other = f"sqlite:///{memory_tmp_path / 'figures.sqlite3'}", "SQLite"
    else:
        url, other = os.environ.get("SSP_FIGURES_POSTGRES_URL", ""), "PostgreSQL"
        require_service("PostgreSQL for the figure tests (SSP_FIGURES_POSTGRES_URL)", bool(url))
    env = {**os.environ, "DATABASE_URL": url, "MIGRATE_DATABASE_URL": url}
    env.pop("DATABASE_AS_OWNER", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "figures", "-q", "-p", "no:randomly",
         *FIGURE_TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, f"on {other}: {run.stdout[-6000:]}{run.stderr[-2000:]}"
    assert " passed" in summary and "skipped" not in summary, summary
    assert "deselected" in summary  # only the figure tests ran there, not this one again
