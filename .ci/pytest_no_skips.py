"""Under CI a skipped test fails the run: a missing service must never pass silently.

Loaded by .ci/run (`-p pytest_no_skips`); tests/conftest.py already turns the known
service checks into failures, this catches any other skip.
"""


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write("\n")
        reporter.write_line(f"CI: {len(skipped)} skipped test(s) fail the run:", red=True)
        for report in skipped:
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else ""
            reporter.write_line(f"  {report.nodeid}: {reason}")
        session.exitstatus = 1
