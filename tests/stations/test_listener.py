"""The TCP listener over loopback: packets from several connections are stored, bad ones counted,
and nothing a station sends takes it down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from incident.core.store.engine import session_scope
from incident.core.store.tables import StationReading, StationRejection
from incident.stations import build_data_segment, frame, ingest_packets
from incident.stations._listener import Listener


def _packet(mn: str, at: datetime, value: float) -> bytes:
    return frame(
        build_data_segment(mn=mn, cn="2011", data_time=at, values={"w21003": value, "w01018": 14.0})
    ).encode()


async def _send(port: int, payload: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_loopback_store_refuse_and_survive(engine, stations):
    listener = Listener(engine, actor="test", flush_s=0.05, store=ingest_packets)
    port = await listener.start()
    assert listener.host == "127.0.0.1" and port > 0
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    good = b"".join(_packet("STA", now - timedelta(minutes=i), 0.3) for i in range(5))
    bad = (
        _packet("STB", now, 0.3)[:-6]
        + b"FFFF\r\n"  # CRC
        + b"\x00\xff garbage\r\n"
        + b"##"
        + b"9" * 6000
        + b"\r\n"  # oversize line
        + _packet("NOPE", now, 0.3)  # unknown station
        + _packet("STB", now - timedelta(days=30), 0.3)  # too old for a live feed
    )
    await asyncio.gather(_send(port, good), _send(port, bad), _send(port, _packet("STB", now, 0.4)))
    # a station that connects and hangs up at once, and one sending half a packet
    await _send(port, b"")
    await _send(port, _packet("STUP", now, 0.2)[:20])
    for _ in range(100):
        await asyncio.sleep(0.05)
        if listener.stats.packets >= 12:
            break
    # still listening after all that
    await _send(port, _packet("STUP", now, 0.25))
    await asyncio.sleep(0.3)
    await listener.stop()
    assert listener.stats.stored == 2 * 7
    assert listener.stats.rejected == 6
    with session_scope(engine) as s:
        rows = s.exec(select(StationReading)).all()
        assert len(rows) == 14
        assert sum(r.flag == "N" for r in rows) == 14
        assert len(s.exec(select(StationRejection)).all()) == 6


async def test_detection_runs_on_its_timer_not_after_every_write(engine, stations):
    """A spill feed streamed over TCP: writes happen every 0.05 s, detection only every detect_s,
    on the series written since; the alert comes from a timed pass while the listener runs."""
    from incident.stations import listener as make_listener
    from tests.stations.conftest import replay_lines

    lines, _ = replay_lines(spill=True)
    lst = make_listener(engine, actor="test", detect_s=0.5)
    lst.flush_s = 0.05
    lst.batch = 200
    seen: list[list[str]] = []
    lst.on_alert = seen.append
    port = await lst.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for k in range(0, len(lines), 100):
        writer.write("".join(lines[k : k + 100]).encode())
        await writer.drain()
        await asyncio.sleep(0.1)
    writer.close()
    await writer.wait_closed()
    for _ in range(600):
        await asyncio.sleep(0.05)
        if lst.stats.alerts:
            break
    passes_while_running = lst.stats.detection_passes
    await lst.stop()
    assert lst.stats.rejected == 0 and lst.stats.stored == 2 * len(lines)
    assert passes_while_running >= 1 and len(lst.stats.alerts) == 1, lst.stats
    assert seen and seen[0] == lst.stats.alerts
    # far fewer passes than writes: each pass covers everything written since the previous one
    with session_scope(engine) as s:
        from incident.core import log

        writes = sum(e.kind == "stations.ingested" for e in log.entries(s, "stations"))
    assert writes >= 10 and lst.stats.detection_passes < writes / 2
    assert lst.stats.detection_series <= 6 * lst.stats.detection_passes


async def test_a_slow_timer_still_detects_what_the_last_writes_touched_on_stop(engine, stations):
    from incident.stations import listener as make_listener
    from tests.stations.conftest import replay_lines

    lines, _ = replay_lines(spill=True)
    lst = make_listener(engine, actor="test", detect_s=3600.0)
    lst.flush_s = 0.05
    port = await lst.start()
    await _send(port, "".join(lines).encode())
    for _ in range(400):
        await asyncio.sleep(0.05)
        if lst.stats.stored >= 2 * len(lines):
            break
    assert lst.stats.detection_passes == 0 and lst.stats.alerts == []
    await lst.stop()
    assert lst.stats.detection_passes == 1 and len(lst.stats.alerts) == 1


async def test_a_failed_write_keeps_the_packets_for_the_next_one(engine, stations):
    """The database refusing a write (locked, full) must not lose the packets of that batch."""
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database is locked")
        return ingest_packets(*args, **kwargs)

    listener = Listener(engine, actor="test", flush_s=0.05, store=flaky, detect=False)
    port = await listener.start()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    await _send(port, b"".join(_packet("STA", now - timedelta(minutes=i), 0.3) for i in range(3)))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if listener.stats.stored >= 6:
            break
    await listener.stop()
    assert calls["n"] >= 2 and listener.stats.stored == 6
