"""Where the units run: a local process pool (default) or a Dask cluster (``--scheduler``).

Both run the same pure function (`compute.run_units`) on the same batches, so the numbers are the
same to the last bit whichever runs them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from incident.core.errors import UserError
from incident.preplan.compute import PointResult, Unit, run_units

Progress = Callable[[int, int], None]


class ProgressBar:
    """A one-line text bar on stderr (or any stream), redrawn at most every 0.1 s."""

    def __init__(self, label: str = "pre-plan", stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = now - self.started
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} units {elapsed:6.1f} s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def batches(units: list[Unit], workers: int) -> list[list[Unit]]:
    """Contiguous batches, about 4 per worker, so a slow batch does not leave workers idle."""
    if not units:
        return []
    size = max(1, -(-len(units) // max(1, 4 * workers)))
    return [units[i : i + size] for i in range(0, len(units), size)]


def run_local(
    units: list[Unit], *, workers: int | None = None, progress: Progress | None = None
) -> dict[str, dict[str, PointResult]]:
    """Run in a process pool (`workers` processes, default the CPU count); 1 worker runs in-process."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    workers = max(1, int(workers or os.cpu_count() or 1))
    parts = batches(units, workers)
    out: dict[str, dict[str, PointResult]] = {}
    done = 0
    if progress:
        progress(0, len(units))
    if workers == 1 or len(parts) <= 1:
        for part in parts:
            out.update(run_units(part))
            done += len(part)
            if progress:
                progress(done, len(units))
        return out
    with ProcessPoolExecutor(max_workers=min(workers, len(parts)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_units, part): len(part) for part in parts}
        for future in as_completed(futures):
            out.update(future.result())
            done += futures[future]
            if progress:
                progress(done, len(units))
    return out


def run_dask(
    units: list[Unit], scheduler: Any, *, progress: Progress | None = None
) -> dict[str, dict[str, PointResult]]:
    """Run on a Dask cluster: `scheduler` is an address (tcp://host:port) or a distributed.Client."""
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UserError(
                "preplan.err.scheduler", field="scheduler", address=scheduler, reason=exc
            ) from exc
    else:
        client = scheduler
    try:
        workers = max(1, sum(client.nthreads().values()))
        parts = batches(units, workers)
        out: dict[str, dict[str, PointResult]] = {}
        done = 0
        if progress:
            progress(0, len(units))
        futures = client.map(run_units, parts, pure=False)
        sizes = {f.key: len(p) for f, p in zip(futures, parts, strict=True)}
        for future in as_completed(futures):
            out.update(future.result())
            done += sizes[future.key]
            if progress:
                progress(done, len(units))
        return out
    finally:
        if own:
            client.close()


def executor(
    scheduler: Any = None, *, workers: int | None = None, progress: Progress | None = None
) -> Callable[[list[Unit]], dict[str, dict[str, PointResult]]]:
    if scheduler is None:
        return lambda units: run_local(units, workers=workers, progress=progress)
    return lambda units: run_dask(units, scheduler, progress=progress)
