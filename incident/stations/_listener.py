"""HJ 212 over TCP: one asyncio server, many station connections, batched writes, detection on a timer.

Why batches: each commit is an fsync (synchronous=FULL), so packets are queued and written every
`flush_s` (or `batch` packets) in a worker thread, keeping the event loop free to read. A packet is
stored within about flush_s + one write.

Why a timer for detection: a detection pass reads 3 days of each series (the diurnal profile needs
2), so running it after every 0.2 s write would redo the same work hundreds of times a minute and
delay the writes behind it. The series each write touched are collected, and every `detect_s`
(60 s by default: one reading per series at a minute feed) one pass runs detection on those
series only, in a child process (CPU-bound work in a thread would hold the GIL against the event
loop and the writes; a thread is used only for an in-memory database). An alert is raised at most detect_s after its reading is stored.
Bad packets are counted and logged (stored as refusals, never as data); any error while handling
one connection closes that connection only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from incident.stations._store import IngestReport

logger = logging.getLogger("incident.stations.listener")
MAX_LINE = 4096  # a packet is at most 1024 + 12 characters; longer lines are refused whole
DEFAULT_MAX_AGE = timedelta(days=7)
DEFAULT_DETECT_S = 60.0


@dataclass
class ListenerStats:
    packets: int = 0
    stored: int = 0
    rejected: int = 0
    connections: int = 0
    alerts: list[str] = field(default_factory=list)
    reasons: Counter[Any] = field(default_factory=Counter[Any])
    detection_passes: int = 0
    detection_series: int = 0  # series examined, over all passes
    detection_s: list[float] = field(default_factory=list)  # wall time of each pass


class Listener:
    def __init__(
        self,
        engine: Engine,
        *,
        actor: str,
        host: str = "127.0.0.1",
        port: int = 0,
        flush_s: float = 0.2,
        batch: int = 500,
        detect: bool = True,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        store: Callable[..., tuple[IngestReport, list[str]]] | None = None,
        detect_s: float = DEFAULT_DETECT_S,
        detector: Callable[..., list[str]] | None = None,
        detector_in_child: Callable[[str, set[Any], str], list[str]] | None = None,
    ) -> None:
        self.engine = engine
        #: stores a batch: the room's ``ingest_packets``; runs detection on a set of series: the
        #: room's ``detect_series`` (both passed in by the room's ``listener()`` factory, so this
        #: module never imports the room back)
        self.store_batch = store
        self.detector = detector
        #: the same detection, in a child process (a picklable function of the database URL): a
        #: pass is CPU-bound and, in a thread, would contend for the GIL with the event loop
        self.detector_in_child = detector_in_child
        self._pool: ProcessPoolExecutor | None = None
        self.detect_s = detect_s
        self._dirty: set[tuple[int, str]] = set()
        self._detect_task: asyncio.Task[None] | None = None
        self._stop_event = asyncio.Event()
        self.actor = actor
        self.host = host
        self.port = port
        self.flush_s = flush_s
        self.batch = batch
        self.detect = detect
        self.max_age = max_age
        self.stats = ListenerStats()
        self._queue: list[tuple[str, bytes]] = []
        self._server: asyncio.base_events.Server | None = None
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self.on_alert: Callable[[list[str]], None] | None = None  # for live screens

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]
        self._writer = asyncio.create_task(self._write_loop())
        if self.detect and self.detector is not None:
            if self.detector_in_child is not None and self.engine.url.database not in (None, "", ":memory:"):
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn")
                )
            self._detect_task = asyncio.create_task(self._detect_loop())
        logger.info("listening on %s:%s", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._wake.set()
        self._stop_event.set()
        if self._writer is not None:
            await self._writer
        await self._flush()
        if self._detect_task is not None:
            await self._detect_task
            await self._detect()  # what the last writes touched
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        where = f"{peer[0]}:{peer[1]}" if peer else "tcp"
        self.stats.connections += 1
        n = 0
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.LimitOverrunError as exc:
                    # too long to be a packet: drop up to the next newline and count it refused
                    await reader.readexactly(exc.consumed)
                    self._queue.append((f"{where}#{n}", b"##oversize"))
                    continue
                except asyncio.IncompleteReadError as exc:
                    line = exc.partial
                    if line.strip():
                        n += 1
                        self._queue.append((f"{where}#{n}", line.strip()))
                    break
                if line.strip():
                    n += 1
                    self._queue.append((f"{where}#{n}", line.strip()))
                    if len(self._queue) >= self.batch:
                        self._wake.set()
        except (ConnectionError, OSError) as exc:  # a station hanging up is not our problem
            logger.info("connection %s closed: %s", where, exc)
        except Exception:  # never let one connection take the listener down
            logger.exception("connection %s failed; closing it", where)
        finally:
            writer.close()

    async def _write_loop(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_s)
            except TimeoutError:
                pass
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        if not self._queue:
            return
        batch, self._queue = self._queue, []
        try:
            report, codes = await asyncio.to_thread(self._store, batch)
        except Exception:  # a database problem: log it, keep listening, try the packets again
            logger.exception("could not store %d packet(s); kept for the next write", len(batch))
            self._queue[:0] = batch  # never lost: ahead of what came in meanwhile
            return
        self.stats.packets += report.packets
        self.stats.stored += report.stored
        self.stats.rejected += report.n_rejected
        self.stats.reasons.update(report.rejected)
        for reason, count in report.rejected.items():
            logger.warning("refused %d packet(s): %s", count, reason)
        self._dirty |= report.touched
        self._report_alerts(codes)

    def _report_alerts(self, codes: list[str]) -> None:
        if codes:
            self.stats.alerts.extend(c for c in codes if c not in self.stats.alerts)
            if self.on_alert is not None:
                self.on_alert(codes)

    async def _detect_loop(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._stop_event.wait(), timeout=self.detect_s)
            except TimeoutError:
                pass
            if not self._stopping:
                await self._detect()

    async def _detect(self) -> None:
        """One detection pass, in a thread, over the series written since the last pass."""
        if not self._dirty or self.detector is None or not self.detect:
            return
        touched, self._dirty = self._dirty, set()
        t0 = time.perf_counter()
        try:
            if self._pool is not None and self.detector_in_child is not None:  # the pool implies it
                loop = asyncio.get_running_loop()
                url = self.engine.url.render_as_string(hide_password=False)
                codes = await loop.run_in_executor(
                    self._pool, self.detector_in_child, url, touched, self.actor
                )
            else:
                codes = await asyncio.to_thread(self.detector, self.engine, touched, actor=self.actor)
        except Exception:  # keep listening; the series are tried again on the next pass
            logger.exception("detection failed on %d series", len(touched))
            self._dirty |= touched
            return
        self.stats.detection_passes += 1
        self.stats.detection_series += len(touched)
        self.stats.detection_s.append(time.perf_counter() - t0)
        self._report_alerts(codes)

    def _store(self, batch: list[tuple[str, bytes]]) -> tuple[IngestReport, list[str]]:
        if self.store_batch is None:
            raise RuntimeError("the listener was built without a store; use incident.stations.listener()")
        return self.store_batch(
            self.engine,
            batch,
            actor=self.actor,
            source=f"tcp {self.host}:{self.port}",
            max_age=self.max_age,
            detect=False,  # detection runs on its own timer (_detect_loop)
        )
