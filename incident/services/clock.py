"""Time in one place: timezone-aware UTC in the store, local time on screens.

Drills run on an accelerated exercise clock; services ask this module for
"now" so the same code serves real incidents and exercises.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# China Standard Time; screens show local time, the store keeps UTC.
LOCAL_TZ = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    """Aware UTC with microseconds (what the store keeps)."""
    return datetime.now(UTC)


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
