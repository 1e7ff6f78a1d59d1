"""Report periods: a month, a quarter, a calendar or fiscal year, or any range of days,
in the program time zone. The fiscal year starts in `SSP_FISCAL_YEAR_START_MONTH` and is
named after the calendar year it ends in (FY2026 from July: July 2025 – June 2026)."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext


class PeriodError(ValueError):
    def __init__(self, message: str, *, field: str = "period"):
        super().__init__(message)
        self.field_errors = {field: [message]}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive: the last day of the period
    kind: str = "custom"  # month | quarter | year | fiscal_year | custom

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last), "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first_month = 3 * (quarter - 1) + 1
        last = calendar.monthrange(year, first_month + 2)[1]
        return cls(date(year, first_month, 1), date(year, first_month + 2, last), "quarter")

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def fiscal_year(cls, year: int) -> "Period":
        """The fiscal year ending in calendar year `year` (the calendar year if it starts
        in January)."""
        first_month = fiscal_year_start_month()
        if first_month == 1:
            return cls(date(year, 1, 1), date(year, 12, 31), "fiscal_year")
        last = calendar.monthrange(year, first_month - 1)[1]
        return cls(date(year - 1, first_month, 1), date(year, first_month - 1, last), "fiscal_year")

    @classmethod
    def between(cls, start: date, end: date) -> "Period":
        """A range of days; recognised as a month, quarter, year or fiscal year when it is
        exactly one."""
        if end < start:
            raise PeriodError(
                gettext("The period must end on or after its first day."), field="end"
            )
        if start.day == 1:
            candidates = [cls.month(start.year, start.month)]
            if start.month % 3 == 1:
                candidates.append(cls.quarter(start.year, (start.month - 1) // 3 + 1))
            if start.month == fiscal_year_start_month():
                candidates.append(cls.fiscal_year(end.year))
            if start.month == 1:
                candidates.append(cls.year(start.year))
            for candidate in candidates:
                if candidate.start == start and candidate.end == end:
                    return candidate
        return cls(start, end, "custom")

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'2026-01' (a month), '2026-Q1' (a quarter), '2026' (a calendar year) or
        'FY2026' (the fiscal year ending in 2026)."""
        text = (text or "").strip().upper()
        if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(match[1]), int(match[2])
            if 1 <= month <= 12:
                return cls.month(year, month)
        if match := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
            return cls.quarter(int(match[1]), int(match[2]))
        if match := re.fullmatch(r"\d{4}", text):
            return cls.year(int(match[0]))
        if match := re.fullmatch(r"FY-?(\d{4})", text):
            return cls.fiscal_year(int(match[1]))
        raise PeriodError(
            gettext(
                "Give a month as YYYY-MM, a quarter as YYYY-Q1 … YYYY-Q4, a year as YYYY "
                "or a fiscal year as FY2026."
            )
        )

    @classmethod
    def previous_quarter(cls, today: date) -> "Period":
        quarter = (today.month - 1) // 3  # the quarter before today's, 0 = last year's Q4
        return cls.quarter(today.year, quarter) if quarter else cls.quarter(today.year - 1, 4)

    @classmethod
    def previous_fiscal_year(cls, today: date) -> "Period":
        first_month = fiscal_year_start_month()
        ending_in = today.year + 1 if first_month > 1 and today.month >= first_month else today.year
        return cls.fiscal_year(ending_in - 1)

    def months(self) -> list["Period"]:
        """The whole months the period is made of (a month, quarter or year)."""
        months, year, month = [], self.start.year, self.start.month
        while date(year, month, 1) <= self.end:
            months.append(Period.month(year, month))
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        return months

    @classmethod
    def previous_month(cls, today: date) -> "Period":
        first = today.replace(day=1) - timedelta(days=1)
        return cls.month(first.year, first.month)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        if self.kind == "quarter":
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "fiscal_year":
            return f"FY{self.end.year} ({self.start:%b %Y} – {self.end:%b %Y})"
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    @property
    def slug(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "fiscal_year":
            return f"FY{self.end.year}"
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    @property
    def whole_months(self) -> bool:
        """Whether the period is a run of whole months (a month, quarter, year, fiscal
        year, or dates from a 1st to a month's last day): what the linked sets of
        overlapping periods are made of (reports/releases.py)."""
        return self.start.day == 1 and self.end_exclusive.day == 1

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first midnight, midnight after the last day) in the program time zone."""
        zone = timezone.get_default_timezone()
        return (
            timezone.make_aware(datetime.combine(self.start, time.min), zone),
            timezone.make_aware(datetime.combine(self.end_exclusive, time.min), zone),
        )


def fiscal_year_start_month() -> int:
    return settings.SSP_FISCAL_YEAR_START_MONTH


def months_back(*, count: int, today: date) -> list[Period]:
    """The last `count` whole or running months, oldest first (the current month included)."""
    periods = []
    year, month = today.year, today.month
    for _ in range(count):
        periods.append(Period.month(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]
