"""Time in one place: timezone-aware UTC in the store, local time on screens.

Drills run on an accelerated exercise clock; services ask this module for
"now" so the same code serves real incidents and exercises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

# China Standard Time; screens show local time, the store keeps UTC.
LOCAL_TZ = timezone(timedelta(hours=8), "CST")


_now_provider: Callable[[], datetime] | None = None

#: How far ahead of "now" a typed time may be (clock skew between devices). An alert,
#: a sampling or a measurement time beyond it is a typo (a wrong year, day or AM/PM).
FUTURE_TOLERANCE = timedelta(minutes=10)


def utcnow() -> datetime:
    """Aware UTC with microseconds (what the store keeps)."""
    if _now_provider is not None:
        return as_utc(_now_provider())
    return datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Fix "now" (tests and snapshots). Not for drills: they use the exercise clock."""
    global _now_provider
    previous = _now_provider
    _now_provider = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _now_provider = previous


# ---------------------------------------------------------------- the exercise clock
#
# An exercise incident keeps its clock as segments [{"wall", "ex", "speed"}]: from wall
# time ``wall`` on, exercise time runs from ``ex`` at ``speed`` × real time (0 = paused).
# The first segment starts at the exercise's alert (ex = alert_at = the wall start), so
# times stamped by the system (log entries, check-ins, crew status changes, report
# drafts) stay wall times and :func:`exercise_time` maps them onto the exercise clock,
# while times typed by players (sampling time, arrival time) are exercise times.


@dataclass(frozen=True)
class ExerciseClock:
    """An exercise's clock as plain data (screens keep one and tick it without the database)."""

    alert_at: datetime
    segments: tuple[tuple[datetime, datetime, float], ...]  # (wall, exercise, speed), oldest first
    ended: bool = False

    def at(self, wall: datetime) -> datetime:
        """Exercise time of the wall-clock instant ``wall``."""
        wall = as_utc(wall)
        current = self.segments[0]
        for seg in self.segments:
            if seg[0] <= wall:
                current = seg
        w0, e0, speed = current
        return e0 + (wall - w0) * speed

    def now(self) -> datetime:
        return self.at(utcnow())

    @property
    def speed(self) -> float:
        return self.segments[-1][2]

    @property
    def paused(self) -> bool:
        return self.speed == 0

    def elapsed_min(self, wall: datetime | None = None) -> float:
        return (self.at(wall or utcnow()) - as_utc(self.alert_at)).total_seconds() / 60


def exercise_clock(incident: Any) -> ExerciseClock | None:
    """The clock of an exercise incident (None for a real incident or an exercise without a clock)."""
    if not getattr(incident, "is_exercise", False) or not getattr(incident, "exercise_clock_json", None):
        return None
    segments = tuple(
        (
            as_utc(datetime.fromisoformat(s["wall"])),
            as_utc(datetime.fromisoformat(s["ex"])),
            float(s["speed"]),
        )
        for s in json.loads(incident.exercise_clock_json)
    )
    if not segments:
        return None
    return ExerciseClock(
        alert_at=as_utc(incident.alert_at),
        segments=segments,
        ended=getattr(incident, "status", "active") in ("terminated", "closed"),
    )


def exercise_time(incident: Any, wall: datetime) -> datetime:
    """Exercise-clock time of the wall-clock instant ``wall`` (identity for real incidents)."""
    clock = exercise_clock(incident)
    return as_utc(wall) if clock is None else clock.at(wall)


def incident_now(incident: Any) -> datetime:
    """ "Now" for an incident's deadlines and countdowns: the exercise clock for a drill, else UTC now."""
    return exercise_time(incident, utcnow())


def exercise_speed(incident: Any) -> float | None:
    clock = exercise_clock(incident)
    return None if clock is None else clock.speed


def fmt_elapsed(minutes: float) -> str:
    """T+01:23 / T-00:05 from minutes after the alert."""
    sign = "-" if minutes < 0 else "+"
    whole = abs(int(minutes))
    return f"T{sign}{whole // 60:02d}:{whole % 60:02d}"


def as_utc(at: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def to_local(at: datetime) -> datetime:
    return as_utc(at).astimezone(LOCAL_TZ)


def fmt_local(at: datetime | None, with_date: bool = True) -> str:
    if at is None:
        return "—"
    local = to_local(at)
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def parse_local(text: str, *, where: str = "time") -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' (local, CST) or ISO with offset into aware UTC.

    ``where`` names the field or file location in the refusal.
    """
    from incident.core.errors import UserError

    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserError("errors.core.cannot_read_time", where=where, text=repr(text)) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    try:
        # both conversions must exist: the time is stored in UTC and shown in local time
        parsed.astimezone(LOCAL_TZ)
        return parsed.astimezone(UTC)
    except OverflowError:
        raise UserError("errors.core.time_out_range_year", where=where, text=repr(text)) from None


def refuse_future(at: datetime, *, now: datetime | None = None, where: str, what: str) -> None:
    """Refuse a typed time more than :data:`FUTURE_TOLERANCE` after ``now`` (default: UTC now)."""
    from incident.core.errors import UserError

    now = as_utc(now or utcnow())
    if as_utc(at) > now + FUTURE_TOLERANCE:
        ahead = as_utc(at) - now
        raise UserError(
            "errors.time.future",
            what=what,
            at=fmt_local(at),
            ahead=_span(ahead),
            now=fmt_local(now),
            where=where,
        )


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    if hours >= 1:
        return f"{hours:.1f} h"
    return f"{hours * 60:.0f} min"


def fmt_span(minutes: float) -> str:
    """A duration as people say it: 45m, 3h20, 2d 4h."""
    whole = abs(int(round(minutes)))
    if whole < 60:
        return f"{whole}m"
    if whole < 48 * 60:
        return f"{whole // 60}h{whole % 60:02d}"
    return f"{whole // 1440}d {whole % 1440 // 60}h"


def fmt_when(at: datetime | None, now: datetime | None = None, *, relative: bool = True) -> str:
    """Wall-clock time on screens: HH:MM today, MM-DD HH:MM on another day (another year: the
    full date), with the relative time beside it ("in 3h20" / "45m ago"), in the user's language.

    ``now`` is the incident's "now" (the exercise clock in a drill); default: real now.
    """
    from incident.core.i18n import t

    if at is None:
        return "—"
    now = as_utc(now) if now is not None else utcnow()
    local, today = to_local(at), to_local(now)
    if local.date() == today.date():
        text = local.strftime("%H:%M")
    elif local.year == today.year:
        text = local.strftime("%m-%d %H:%M")
    else:
        text = local.strftime("%Y-%m-%d %H:%M")
    if not relative:
        return text
    minutes = (as_utc(at) - now).total_seconds() / 60
    if abs(minutes) < 1:
        return f"{text} ({t('clock.now')})"
    key = "clock.in" if minutes > 0 else "clock.ago"
    return f"{text} ({t(key, span=fmt_span(minutes))})"
