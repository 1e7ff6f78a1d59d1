"""axe-core in the browser tests: `assert_no_serious_axe_violations(page)`.

axe-core comes from the pinned PyPI package axe-playwright-python (it ships
axe.min.js), so nothing is downloaded at run time. The script is evaluated through
Playwright (the DevTools protocol), which the page's Content-Security-Policy does not
apply to, so the app's strict CSP stays as it is in production.
"""

from functools import cache
from pathlib import Path

import axe_playwright_python

FAILING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def axe_violations(page, *, impacts=FAILING_IMPACTS) -> list[dict]:
    """Run axe-core on the page as it is now; return violations of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:3]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:120]}")
        if len(violation["nodes"]) > 3:
            lines.append(f"    … and {len(violation['nodes']) - 3} more")
    return "\n".join(lines)


def assert_no_serious_axe_violations(page) -> None:
    """Fail on any serious or critical axe-core violation on the current page."""
    violations = axe_violations(page)
    assert not violations, f"axe-core found on {page.url}:\n{describe(violations)}"
