"""Nightly database backups into SSP_BACKUP_DIR, kept SSP_BACKUP_KEEP_DAYS days.

PostgreSQL: `pg_dump --format=custom` as the app's role (it may read every table),
without owners or grants, so it restores into any fresh database (docs/operations.md).
SQLite: a consistent copy through SQLite's own backup API. A file appears under its final
name only once complete; a failed dump leaves nothing behind to be mistaken for a backup.
"""

import os
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections

PREFIX = "ssp-"


class BackupError(Exception):
    pass


def backup_create(*, directory: Path | None = None, alias: str = "default") -> Path:
    """Write one backup of the database and return its path."""
    directory = Path(directory or settings.SSP_BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    db = connections[alias].settings_dict
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if connections[alias].vendor == "postgresql":
        target = directory / f"{PREFIX}{stamp}.dump"
        partial = target.with_name(target.name + ".partial")
        _pg_dump(db, partial)
    else:
        target = directory / f"{PREFIX}{stamp}.sqlite3"
        partial = target.with_name(target.name + ".partial")
        # Through the app's own connection: the test database is an in-memory one.
        connections[alias].ensure_connection()
        with closing(sqlite3.connect(partial)) as copy:
            connections[alias].connection.backup(copy)
    partial.replace(target)
    return target


def _pg_dump(db: dict, path: Path) -> None:
    command = [
        settings.SSP_PG_DUMP,
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--file={path}",
        f"--dbname={db['NAME']}",
    ]
    if db.get("HOST"):
        command.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        command.append(f"--port={db['PORT']}")
    if db.get("USER"):
        command.append(f"--username={db['USER']}")
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed ({result.returncode}): {result.stderr.strip()}")


def backups_prune(*, directory: Path | None = None, keep_days: int | None = None) -> list[Path]:
    """Remove backups older than keep_days; the newest always stays, however old."""
    directory = Path(directory or settings.SSP_BACKUP_DIR)
    keep_days = settings.SSP_BACKUP_KEEP_DAYS if keep_days is None else keep_days
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    backups = sorted(
        (p for p in directory.glob(f"{PREFIX}*") if not p.name.endswith(".partial")),
        key=lambda p: p.stat().st_mtime,
    )
    removed = []
    for path in backups[:-1]:
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
            path.unlink()
            removed.append(path)
    return removed
