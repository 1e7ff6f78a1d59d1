"""Report periods: a month, a quarter or any range of days, in the program time zone."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone


class PeriodError(ValueError):
    def __init__(self, message: str, *, field: str = "period"):
        super().__init__(message)
        self.field_errors = {field: [message]}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive: the last day of the period
    kind: str = "custom"  # month | quarter | custom

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
    def between(cls, start: date, end: date) -> "Period":
        """A range of days; recognised as a month or quarter when it is exactly one."""
        if end < start:
            raise PeriodError("The period must end on or after its first day.", field="end")
        if start.day == 1:
            month = cls.month(start.year, start.month)
            if month.end == end:
                return month
            if start.month % 3 == 1:
                quarter = cls.quarter(start.year, (start.month - 1) // 3 + 1)
                if quarter.end == end:
                    return quarter
        return cls(start, end, "custom")

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'2026-01' (a month) or '2026-Q1' (a quarter)."""
        text = (text or "").strip().upper()
        if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(match[1]), int(match[2])
            if 1 <= month <= 12:
                return cls.month(year, month)
        if match := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
            return cls.quarter(int(match[1]), int(match[2]))
        raise PeriodError("Give a month as YYYY-MM or a quarter as YYYY-Q1 … YYYY-Q4.")

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
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    @property
    def slug(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

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


def months_back(*, count: int, today: date) -> list[Period]:
    """The last `count` whole or running months, oldest first (the current month included)."""
    periods = []
    year, month = today.year, today.month
    for _ in range(count):
        periods.append(Period.month(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]
