"""Time in one place: timezone-aware UTC in the store, local time on screens.

Drills run on an accelerated exercise clock; services ask this module for
"now" so the same code serves real incidents and exercises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

# China Standard Time; screens show local time, the store keeps UTC.
LOCAL_TZ = timezone(timedelta(hours=8), "CST")


_now_provider: Callable[[], datetime] | None = None


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


def parse_local(text: str) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' (local, CST) or ISO with offset into aware UTC."""
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        from incident.errors import UserError

        raise UserError(
            f"cannot read the time {text!r}",
            fix="write it as YYYY-MM-DD HH:MM (local time, UTC+8) or ISO 8601 with an offset",
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(UTC)
