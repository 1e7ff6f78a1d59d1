#!/usr/bin/env python
"""Run the benchmarks: `make bench`, or `bench/run.py [name ...]` for some of them.

Creates a fresh PostgreSQL database (dropped and recreated, default `ssp_bench`;
override with BENCH_DATABASE_URL; Redis db 15 unless BENCH_REDIS_URL), migrates it,
sets Django up, then calls `run()` of every `bench/bench_*.py` (bench_baseline first:
the others compare against it). Prints one table and writes bench/results.json. A
failing benchmark prints its error, the others still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_FILE = BENCH_DIR / "results.json"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ssp_bench"
# Benchmarks purge their Celery queue: never the one `make run` or a deployment uses.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
REQUIRED_KEYS = {"figure": str, "value": float, "unit": str}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help="benchmarks to run, e.g. baseline (default: every bench_*.py)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to drop, recreate and use (its name must contain 'bench')",
    )
    parser.add_argument("--output", default=str(RESULTS_FILE), help="where to write the JSON")
    return parser.parse_args(argv)


def recreate_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"benchmarks need PostgreSQL, not {parts.scheme}")
    name = parts.path.lstrip("/")
    # It is dropped: never let a typo point this at a database someone works in.
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    admin_url = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        database = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))
        version = conn.execute("SHOW server_version").fetchone()[0]
    return version


def discover(names: list[str]) -> list[str]:
    available = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if names:
        wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in names]
        wanted = [Path(n).stem for n in wanted]
        unknown = [n for n in wanted if n not in available]
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(unknown)} (have {available})")
        available = wanted
    # The baseline is the reference the others are read against: always measure it first.
    return sorted(available, key=lambda n: (n != "bench_baseline", n))


def check_rows(rows) -> list[dict]:
    if not isinstance(rows, list):
        raise TypeError(f"run() must return a list of dicts, got {type(rows).__name__}")
    checked = []
    for row in rows:
        for key, kind in REQUIRED_KEYS.items():
            if key not in row:
                raise TypeError(f"result row without {key!r}: {row}")
            if kind is float:
                row[key] = float(row[key])
            elif not isinstance(row[key], kind):
                raise TypeError(f"{key!r} must be {kind.__name__}: {row}")
        row.setdefault("reference", None)
        row.setdefault("ratio", None)
        checked.append(row)
    return checked


def fill_ratios(rows: list[dict], by_figure: dict[str, dict]) -> None:
    """A row naming a reference figure but no ratio gets value / reference value."""
    for row in rows:
        if row["ratio"] is None and row["reference"] in by_figure:
            ref = by_figure[row["reference"]]["value"]
            row["ratio"] = row["value"] / ref if ref else None


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def print_table(rows: list[dict]) -> None:
    header = ("figure", "value", "unit", "ratio", "reference")
    lines = [
        (r["figure"], fmt(r["value"]), r["unit"], fmt(r["ratio"]), r["reference"] or "")
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    align = ["<", ">", "<", ">", "<"]

    def show(cells):
        print("  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True)))

    show(header)
    show(["-" * w for w in widths])
    for line in lines:
        show(line)


def machine_facts(postgres_version: str) -> dict:
    facts = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "redis": _redis_version(),
    }
    try:
        facts["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        facts["commit"] = None
    return facts


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _redis_version() -> str | None:
    import redis
    from django.conf import settings

    try:
        return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).info("server")[
            "redis_version"
        ]
    except redis.RedisError:
        return None


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    # gunicorn serves pages through the manifest storage, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    names = discover(args.names)
    print(f"Recreating {urlsplit(args.database_url).path.lstrip('/')} and migrating…")
    postgres_version = recreate_database(args.database_url)
    setup_django(args.database_url)
    from bench import common

    rows: list[dict] = []
    modules: dict[str, dict] = {}
    for name in names:
        print(f"- {name} …", flush=True)
        began = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            produced = check_rows(module.run())
        except Exception as exc:
            modules[name] = {"seconds": round(time.perf_counter() - began, 1), "error": repr(exc)}
            print(f"  FAILED: {exc!r}", file=sys.stderr)
            traceback.print_exc()
            continue
        for row in produced:
            row["benchmark"] = name
            common.RESULTS[row["figure"]] = row
        rows.extend(produced)
        modules[name] = {"seconds": round(time.perf_counter() - began, 1), "error": None}
        print(f"  {len(produced)} figures in {modules[name]['seconds']} s", flush=True)

    fill_ratios(rows, common.RESULTS)
    print()
    if rows:
        print_table(rows)
    failed = [n for n, m in modules.items() if m["error"]]
    document = {
        "machine": machine_facts(postgres_version),
        "benchmarks": modules,
        "results": rows,
    }
    Path(args.output).write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nWrote {os.path.relpath(args.output, ROOT)}.")
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
