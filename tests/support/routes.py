"""Every address the project serves, filled in with plausible values (for the tests that
check each page and API route: login required, strict security headers)."""

import re

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _concrete(pattern: str) -> str:
    """Fill converters and regex groups with a plausible value."""
    path = re.sub(r"\(\?P<format>[^)]*\)", "json", pattern)
    # A group that lists its words (csv|xlsx) takes the first of them.
    path = re.sub(r"\(\?P<[a-z_]+>([a-z0-9_]+)(?:\|[a-z0-9_]+)+\)", r"\1", path)
    path = re.sub(r"\(\?P<[a-z_]*uuid>[^)]*\)", "00000000-0000-0000-0000-000000000001", path)
    path = re.sub(r"\(\?P<[a-z_]+>[^)]*\)", "1", path)
    path = re.sub(r"<drf_format_suffix:[a-z_]+>", ".json", path)
    path = re.sub(r"<uuid:[a-z_]+>", "00000000-0000-0000-0000-000000000001", path)
    path = re.sub(r"<(?:slug|str|path):[a-z_]+>", "x", path)
    path = re.sub(r"<(?:[a-z_]+:)?[a-z_]+>", "1", path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\Z", "")
    path = re.sub(r"\.?/?\?$", "", path)
    return "/" + path.lstrip("/")


def all_paths():
    paths = sorted({_concrete(p) for p in _walk(get_resolver())})
    # A path the walker filled wrongly would 404 and pass for the wrong reason.
    unresolved = [p for p in paths if not _resolves(p)]
    assert not unresolved, unresolved
    return paths


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True
