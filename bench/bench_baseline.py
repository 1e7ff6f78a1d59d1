"""The reference: a bare authenticated DRF endpoint (GET /api/v1/sites/ with a token).

Every request goes through the whole stack the capability endpoints use (gunicorn,
middleware, token authentication, site scoping, pagination, JSON) but does almost no
work of its own, so other endpoints' throughput is read as a ratio to it.
"""

from bench.common import bench_staff, gunicorn_server, http_load, result, token_headers
from org.models import ServiceModel, Site
from org.roles import FRONT_DESK

SECONDS = 10
FIGURE_1 = "baseline: GET /api/v1/sites/, 1 client"
FIGURE_16 = "baseline: GET /api/v1/sites/, 16 clients"


def run() -> list[dict]:
    sites = [
        Site.objects.get_or_create(
            code=f"BENCH{n}", defaults={"name": f"Bench site {n}", "service_model": kind}
        )[0]
        for n, kind in enumerate(ServiceModel.values)
    ]
    bench_staff(username="bench_front_desk", role=FRONT_DESK, sites=sites[:3])
    headers = token_headers("bench_front_desk")

    rows = []
    with gunicorn_server(workers=2) as base:
        url = f"{base}/api/v1/sites/"
        for clients, name in ((1, FIGURE_1), (16, FIGURE_16)):
            load = http_load(url=url, clients=clients, duration=SECONDS, headers=headers, warmup=3)
            if load.errors:
                raise RuntimeError(f"{name}: {load.errors} errors, e.g. {load.error_samples}")
            rows += [
                result(f"{name}: throughput", load.throughput, "req/s"),
                result(f"{name}: p50 latency", load.p50, "ms"),
                result(f"{name}: p95 latency", load.p95, "ms"),
                result(f"{name}: p99 latency", load.p99, "ms"),
            ]
    # How far 16 concurrent clients get over one: bounded by gunicorn's 2 sync workers.
    rows[4]["reference"] = f"{FIGURE_1}: throughput"
    return rows
