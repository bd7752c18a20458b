"""Many results stored at once (a lab CSV): the same rows, QC flags and log as ``add_result`` row by row.

Issue 19: importing 10,000 results took over a minute, because every row read its
sample, its QC neighbours and the chain's head, and wrote its result, its log
entry and its flags one statement at a time. :class:`BulkWriter` checks each row
as it comes (the same :func:`check_result`) and queues it; :meth:`BulkWriter.flush`
then, in the caller's transaction:

1. reads once every current result that can be a QC neighbour of a queued row
   (same round, same point within a day, linked parallels: a superset, by index),
   and finds each row's neighbours in memory, among those and the rows queued
   before it, in the order of their ids, as :func:`qc._neighbours` reads them;
2. runs the same :func:`qc.findings_for_new` on each row in turn;
3. gives the rows the ids the database would give them one by one (the next
   integer primary key: SQLite, under the write lock the transaction holds),
   commits to each in the log with the same payload and digest
   (:class:`log.ChainWriter`: the same seq, hash chain and signature), and
4. inserts results, flags and log entries with one ``executemany`` each.

Nothing is weakened: every result still has its own signed ``result.logged``
entry, every flag its ``qc.flagged`` entry, in the order ``add_result`` writes
them. Rows that the plausibility checks look at (a detected value of the
incident's substance) and every row on a store other than SQLite go through the
row-by-row path itself, after the queue is flushed.
``tests/results/test_bulk_import.py`` checks that both ways give the same rows,
flags and log, entry for entry.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, SQLModel, col, select

from incident.core import accounts, log
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import QcFlag, Result, Sample, result_is_current, row_id
from incident.results import plausibility, qc
from incident.results.entry import (
    CheckedResult,
    ResultInput,
    _store,
    check_result,
    get_sample,
    qc_flag_text,
    result_summary,
    result_values,
)

#: QC looks this far either side of a sample at the same point (qc._neighbours)
_DAY = timedelta(days=1)


_RESULT = SQLModel.metadata.tables["result"]
_QCFLAG = SQLModel.metadata.tables["qcflag"]


_NAMES = {id(t): [c.name for c in t.columns] for t in (_RESULT, _QCFLAG)}


def _values(row: Any, table: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _NAMES[id(table)]}


#: a result row before it is stored: every column of Result as an attribute (building the
#: SQLModel object itself cost more than the rest of the row's work)
_EMPTY_RESULT = {c.name: None for c in _RESULT.columns}


class BulkWriter:
    """Results added one by one, stored in batches; see the module docstring."""

    def __init__(self, session: Session, code: str, *, actor: str) -> None:
        self.session = session
        self.inc = get_incident(session, code)
        self.refusal: UserError | None = None
        person = None
        try:
            refuse_if_ended(self.inc, "a result")
            person = accounts.require(session, "result.record")
        except UserError as exc:  # refused for every row, as add_result refuses each
            self.refusal = exc
        self.actor = person.name if person is not None else actor
        self.samples: dict[str, Sample] = {}
        self.bulk = session.get_bind().dialect.name == "sqlite"
        self.queue: list[tuple[CheckedResult, Result]] = []
        self._current: dict[int, dict[str, int]] = {}
        self.stored = 0
        #: the incident's latest forecast, for the plausibility checks: read at the first row
        #: that is checked, once (plausibility.LATEST until then)
        self.forecast: Any = plausibility.LATEST

    # ---------------------------------------------------------------- reading

    def sample(self, code: str) -> Sample | None:
        code = str(code or "").strip()
        if code not in self.samples:
            try:
                self.samples[code] = get_sample(self.session, code)
            except UserError:
                return None
        return self.samples[code]

    def prefetch(self, codes: Iterable[str | None]) -> None:
        """Read these samples and their current results in a few queries (a lab file names
        hundreds of samples; one query each was most of the import's reading)."""
        wanted = sorted({str(c or "").strip() for c in codes} - set(self.samples) - {""})
        for i in range(0, len(wanted), 500):
            found = self.session.exec(select(Sample).where(col(Sample.code).in_(wanted[i : i + 500]))).all()
            ids = []
            for sample in found:
                self.samples[sample.code] = sample
                if sample.id is not None and sample.id not in self._current:
                    self._current[sample.id] = {}
                    ids.append(sample.id)
            if not ids:
                continue
            for sample_id, parameter_, rid in self.session.exec(
                select(Result.sample_id, Result.parameter, Result.id).where(
                    col(Result.sample_id).in_(ids), result_is_current()
                )
            ):
                have = self._current[sample_id]
                have[parameter_] = max(rid or 0, have.get(parameter_, 0))

    def current_result(self, sample_code: str, parameter: str) -> int | None:
        """The current result for ``parameter`` on the sample as stored before this batch (or None).

        Rows of this batch are not seen here: the importer refuses a repeated (sample,
        parameter) in the file itself, before asking.
        """
        sample = self.sample(sample_code)
        if sample is None or sample.id is None:
            return None
        if sample.id not in self._current:
            have: dict[str, int] = {}
            for parameter_, rid in self.session.exec(
                select(Result.parameter, Result.id).where(Result.sample_id == sample.id, result_is_current())
            ):
                assert rid is not None
                have[parameter_] = max(rid, have.get(parameter_, 0))
            self._current[sample.id] = have
        return self._current[sample.id].get(parameter)

    # ---------------------------------------------------------------- writing

    def add(self, raw: ResultInput) -> None:
        """Check one result (raises as ``add_result`` does) and queue it, or store it at once."""
        if self.refusal is not None:
            raise self.refusal
        checked = check_result(self.session, self.inc, raw, samples=self.samples)
        values = result_values(self.inc, checked, actor=self.actor, at=utcnow())
        row: Any = SimpleNamespace(**{**_EMPTY_RESULT, **values})
        if self.bulk and not plausibility.applies(self.inc, row, checked.sample):
            self.queue.append((checked, row))
            return
        self.flush()
        if self.forecast is plausibility.LATEST:  # read once: nothing in an import stores a forecast
            self.forecast = plausibility.latest(self.session, self.inc)
        _store(self.session, self.inc, Result(**values), checked, actor=self.actor, forecast=self.forecast)
        self.stored += 1

    def flush(self) -> None:
        """Store the queued rows (QC, ids, log, inserts); see the module docstring."""
        if not self.queue:
            return
        queue, self.queue = self.queue, []
        session, inc = self.session, self.inc
        neighbours = _Neighbours(session, queue)
        chain = log.ChainWriter(session, log.incident_chain(inc.code))
        next_result = (session.exec(select(func.max(Result.id))).one() or 0) + 1
        next_flag = (session.exec(select(func.max(QcFlag.id))).one() or 0) + 1
        results: list[dict[str, Any]] = []
        flags: list[dict[str, Any]] = []
        for checked, row in queue:
            found = qc.findings_for_new(session, row, checked, neighbours=neighbours.of(row, checked.sample))
            row.qc_flag = qc_flag_text(found)
            row.id = next_result
            next_result += 1
            row.log_seq = chain.add(
                actor=self.actor,
                kind="result.corrected" if row.corrects_id else "result.logged",
                incident_id=inc.id,
                summary=result_summary(row, checked),
                payload=log.record_payload(row, Result),
            )
            results.append(_values(row, _RESULT))
            for f in found:
                flag = qc.flag_row(inc, row, f, actor=self.actor)
                flag.id = next_flag
                next_flag += 1
                flag.log_seq = chain.add(
                    actor=self.actor,
                    kind="qc.flagged",
                    incident_id=inc.id,
                    summary=qc.flag_summary(flag),
                    payload=log.record_payload(flag),
                )
                flags.append(_values(flag, _QCFLAG))
            neighbours.stored(row, checked.sample)
        log.insert_many(session, _RESULT, results)
        log.insert_many(session, _QCFLAG, flags)
        chain.flush()
        self.stored += len(results)


class _Neighbours:
    """Every current result that can be a QC neighbour of a queued row, indexed in memory.

    ``of(row, sample)`` is what ``qc._neighbours`` would read for the row once the rows
    before it are stored: current results of the parameter on the sample with id
    ``sample.parallel_of``, on samples whose ``parallel_of`` is the sample, at the same
    point within a day, or in the same round; in the order of their ids.
    """

    def __init__(self, session: Session, queue: list[tuple[CheckedResult, Result]]) -> None:
        batch = {s.id: s for s in (c.sample for c, _ in queue)}
        params = sorted({r.parameter for _, r in queue})
        rounds = sorted({s.round_id for s in batch.values() if s.round_id is not None})
        ids = sorted({s.parallel_of for s in batch.values() if s.parallel_of is not None})
        near: list[ColumnElement[bool]] = [col(Sample.parallel_of).in_(list(batch))]
        if rounds:
            near.append(col(Sample.round_id).in_(rounds))
        if ids:
            near.append(col(Sample.id).in_(ids))
        for point_id, lo, hi in _windows(batch.values()):
            near.append(
                and_(
                    col(Sample.point_id) == point_id,
                    col(Sample.sampled_at) >= lo - _DAY,
                    col(Sample.sampled_at) <= hi + _DAY,
                )
            )
        rows: list[tuple[Result, Sample]] = []
        for i in range(0, len(params), 500):
            rows += session.exec(
                select(Result, Sample).where(
                    col(Result.sample_id).in_(select(Sample.id).where(or_(*near))),
                    col(Result.parameter).in_(params[i : i + 500]),
                    Result.sample_id == Sample.id,
                    result_is_current(),
                )
            ).all()
        samples = dict(batch)
        samples.update({s.id: s for _, s in rows})
        # (id, result, sample) by (parameter, sample id), in id order
        self.at: dict[tuple[str, int], list[tuple[int, Any, Sample]]] = defaultdict(list)
        for r, s in sorted(rows, key=lambda rs: rs[0].id or 0):
            self.at[(r.parameter, row_id(s))].append((row_id(r), r, s))
        self.children: dict[int, list[int]] = defaultdict(list)
        self.round: dict[int, list[int]] = defaultdict(list)
        by_point: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for s in samples.values():
            if s.parallel_of is not None:
                self.children[s.parallel_of].append(row_id(s))
            if s.round_id is not None:
                self.round[s.round_id].append(row_id(s))
            if s.point_id is not None:
                by_point[s.point_id].append((as_utc(s.sampled_at), row_id(s)))
        self.by_point = {p: sorted(v) for p, v in by_point.items()}
        self.times = {p: [t for t, _ in v] for p, v in self.by_point.items()}
        self._near_cache: dict[int, list[int]] = {}
        self.samples = samples
        # the columns qc.may_matter reads, as plain values (ORM attribute reads were a tenth of the import)
        self.links = {sid: _Links(s.id, s.sample_type, s.parallel_of) for sid, s in samples.items()}

    def _near(self, sample: Sample) -> list[int]:
        sid = sample.id
        assert sid is not None
        if sid not in self._near_cache:
            # only the neighbours QC can use (qc.may_matter; findings_for_new filters the same way);
            # a sample not read here has no current result of the batch's parameters
            links, me = self.links, self.links[sid]
            self._near_cache[sid] = sorted(
                n for n in self._find_near(sample) if n in links and qc.may_matter(me, links[n])
            )
        return self._near_cache[sid]

    def _find_near(self, sample: Sample) -> set[int]:
        out: set[int] = set(self.children.get(row_id(sample), ()))
        if sample.parallel_of is not None:
            out.add(sample.parallel_of)
        if sample.round_id is not None:
            out.update(self.round.get(sample.round_id, ()))
        if sample.point_id is not None and sample.point_id in self.by_point:
            at = as_utc(sample.sampled_at)
            times, entries = self.times[sample.point_id], self.by_point[sample.point_id]
            lo = bisect.bisect_left(times, at - _DAY)
            hi = bisect.bisect_right(times, at + _DAY)
            out.update(sid for _, sid in entries[lo:hi])
        return out

    def of(self, row: Result, sample: Sample) -> list[tuple[Result, Sample]]:
        at, parameter = self.at, row.parameter
        found = [t for sid in self._near(sample) for t in at.get((parameter, sid), ())]
        found.sort()  # by id (unique): the order of qc._neighbours
        return [(r, s) for _, r, s in found]

    def stored(self, row: Any, sample: Sample) -> None:
        self.at[(row.parameter, row_id(sample))].append((row.id, row, sample))


@dataclass(slots=True, frozen=True)
class _Links:
    id: int | None
    sample_type: str
    parallel_of: int | None


def _windows(samples: Iterable[Sample]) -> list[tuple[int, datetime, datetime]]:
    """(point, first, last) spans of the samples' times at each point, split where two days apart."""
    by_point: dict[int, list[datetime]] = defaultdict(list)
    for s in samples:
        if s.point_id is not None:
            by_point[s.point_id].append(as_utc(s.sampled_at))
    out = []
    for point_id, times in sorted(by_point.items()):
        times.sort()
        lo = hi = times[0]
        for t in times[1:]:
            if t - hi > 2 * _DAY:
                out.append((point_id, lo, hi))
                lo = t
            hi = t
        out.append((point_id, lo, hi))
    return out
