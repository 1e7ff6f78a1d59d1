"""Stock alerts: warn before a stock-out or an expiry.

`alerts_findings` (conditions.py) evaluates every condition for a scope (everything,
or a few location × item pairs) in a fixed number of set-based queries; `alerts_scan`
and `alerts_check` (scan.py) turn findings into alert rows: raise what is new, refresh
what still holds, resolve what has cleared. On PostgreSQL they do both in one
statement, the findings computed by the query of sql.py (tested equal to
`alerts_findings`, the reference and SQLite's path). The digest (digest.py) announces
each new alert once.
"""

from .conditions import COUNT_LOOKBACK_DAYS, SEVERITY, Finding, ScanResult, alerts_findings
from .digest import alerts_send_digest
from .scan import (
    SCAN_LOCK_KEY,
    AlertAlreadyResolved,
    AlertError,
    AlertNotAllowed,
    alert_acknowledge,
    alerts_check,
    alerts_needing_attention,
    alerts_scan,
    alerts_visible_to,
    open_alerts_by_severity,
    seed_demo_alerts,
)

__all__ = [
    "COUNT_LOOKBACK_DAYS",
    "SCAN_LOCK_KEY",
    "SEVERITY",
    "AlertAlreadyResolved",
    "AlertError",
    "AlertNotAllowed",
    "Finding",
    "ScanResult",
    "alert_acknowledge",
    "alerts_check",
    "alerts_findings",
    "alerts_needing_attention",
    "alerts_scan",
    "alerts_send_digest",
    "alerts_visible_to",
    "open_alerts_by_severity",
    "seed_demo_alerts",
]
