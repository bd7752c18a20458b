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
