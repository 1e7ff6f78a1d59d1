"""Helpers for the offline app's browser tests: a phone-sized browser whose profile
(IndexedDB, service worker, caches) survives closing it, and reads of what it keeps."""

import contextlib
from pathlib import Path

from django.conf import settings

from ..conftest import CHROMIUM

PHONE = {"width": 390, "height": 844}
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


# A proxy nobody listens on, loopback included (Chromium bypasses a proxy for loopback
# unless told "<-loopback>"): every request fails, the service worker's too.
NO_NETWORK = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


@contextlib.contextmanager
def phone(chromium, profile: Path, base_url: str, *, offline: bool = False):
    """A persistent browser context on `profile`: closing and reopening it is a phone's
    browser restarted (session cookies go, the device's storage stays).

    `offline=True` starts it with no network at all, for its whole life. Routing alone
    (go_offline) is not enough there: Playwright attaches to a restarted browser's
    service worker a moment after the worker starts, and on a loaded machine the worker's
    first fetch reached the server before the route did (the server sent it to the login
    page, which was not kept)."""
    context = chromium.browser_type.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=ARGS + (NO_NETWORK if offline else []),
        viewport=PHONE,
        base_url=base_url,
        service_workers="allow",
        # The phone keeps the program's time, as the front desk's "When" field assumes.
        timezone_id=settings.TIME_ZONE,
    )
    context.set_default_timeout(15_000)
    if offline:
        go_offline(context)
    try:
        yield context
    finally:
        context.close()


def _cut_off_the_worker(route):
    if route.request.service_worker:
        route.abort("internetdisconnected")
    else:
        route.fallback()


def cut_off_the_worker(context) -> None:
    """The service worker's requests fail while the page still believes it is online:
    the signal dropped after Save was pressed."""
    context.route("**/*", _cut_off_the_worker)


def reconnect_the_worker(context) -> None:
    context.unroute("**/*", _cut_off_the_worker)


def go_offline(context) -> None:
    """No connection, for the pages and for the service worker (which set_offline alone
    does not reach: tests/conftest.py turns on Playwright's worker network events)."""
    context.set_offline(True)
    cut_off_the_worker(context)


def go_online(context) -> None:
    reconnect_the_worker(context)
    context.set_offline(False)


def device_records(page) -> list[dict]:
    """The device outbox, read from IndexedDB by the page's own code."""
    return page.evaluate("() => window.sspDevice.all()")


def device_cache(page, key: str):
    return page.evaluate("(key) => window.sspDevice.cacheGet(key)", key)


def kept_pages(page) -> list[str]:
    return page.evaluate(
        """async () => {
            if (!(await caches.has("ssp-pages"))) return [];
            const cache = await caches.open("ssp-pages");
            return (await cache.keys()).map((r) => new URL(r.url).pathname);
        }"""
    )


def csrf_token(page) -> str:
    return page.evaluate("() => document.querySelector('input[name=csrfmiddlewaretoken]').value")
