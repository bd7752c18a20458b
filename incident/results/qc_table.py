"""The QC table of a report: parallel pairs with their RPD, blanks with their verdict."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from incident.core import standards
from incident.core.store.tables import Sample
from incident.results.qc import parallel_partner, rpd
from incident.results.record import result_records


def qc_summary(session: Session, code: str) -> dict[str, Any]:
    """Parallel pairs with their RPD and blanks with their verdict, for the QC table of a report."""
    views = result_records(session, code)
    by_sample = defaultdict(list)
    for v in views:
        by_sample[v.sample].append(v)
    samples = {s.code: s for s in session.exec(select(Sample).where(col(Sample.code).in_(list(by_sample))))}
    ids = {s.id: s.code for s in samples.values()}
    pairs = []
    for code_, s in samples.items():
        if s.sample_type != "parallel" or s.parallel_of not in ids:
            continue
        for a in by_sample[code_]:
            primary = [
                (b, b.method, b.sampled_at)
                for b in by_sample[ids[s.parallel_of]]
                if b.parameter == a.parameter
            ]
            b = parallel_partner(
                a.method, a.sampled_at, primary
            )  # same method and time, never across methods
            if b is not None:
                limit = standards.parameters()[a.parameter].rpd_limit_pct
                value = None
                if a.detected and b.detected and a.value_mg_l is not None and b.value_mg_l is not None:
                    value = rpd(a.value_mg_l, b.value_mg_l)
                pairs.append(
                    {
                        "parameter": a.parameter,
                        "method": a.method,
                        "sample": ids[s.parallel_of],
                        "parallel": code_,
                        "a": b.text,
                        "b": a.text,
                        "rpd_pct": None if value is None else round(value, 1),
                        "limit_pct": limit,
                        "ok": not ({"rpd_exceeded", "parallel_mismatch"} & set(a.qc_flags)),
                    }
                )
    blanks = [
        {
            "sample": v.sample,
            "parameter": v.parameter,
            "result": v.text,
            "ok": not v.detected,
        }
        for v in views
        if v.sample_type == "field_blank"
    ]
    flagged = [
        {"id": v.id, "sample": v.sample, "parameter": v.parameter, "flags": ", ".join(v.qc_flags)}
        for v in views
        if v.qc_flags and v.sample_type != "field_blank"
    ]
    return {"parallels": pairs, "blanks": blanks, "flagged": flagged}
