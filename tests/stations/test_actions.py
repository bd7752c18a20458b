"""Acting on an alert: a dismissal needs a reason, is logged, and a dismissed alert neither comes
back on a rescan nor absorbs a later event; statuses move only forward."""

from __future__ import annotations

import json

import pytest

from incident.core import log
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import Station
from incident.stations import acknowledge_alert, alerts, dismiss_alert, ingest, open_incident_from_alert
from tests.stations.conftest import replay_lines
from tests.stations.test_replay import _write


def _rescan_everything(engine) -> list[str]:
    from sqlmodel import select

    from incident.stations._alerts import scan

    with session_scope(engine) as s:
        touched = {(st.id, p) for st in s.exec(select(Station)) for p in json.loads(st.parameters_json)}
        return scan(s, touched, actor="test")


def test_dismiss_needs_a_reason_is_logged_and_sticks(engine, stations, tmp_path):
    lines, _ = replay_lines(spill=True)
    _, codes = ingest(engine, _write(tmp_path, lines), actor="test")
    (code,) = codes
    with session_scope(engine) as s, pytest.raises(UserError) as err:
        dismiss_alert(s, code, reason="   ", actor="officer")
    assert err.value.where == "--reason"
    assert "理由" in err.value.render("zh")  # rendered in the reader's language
    with session_scope(engine) as s, pytest.raises(UserError, match="no alert ALR-1999-0001"):
        acknowledge_alert(s, "ALR-1999-0001", actor="officer")
    with session_scope(engine) as s:
        row = dismiss_alert(s, code, reason="analyser fouled; cleaned 10:20", actor="officer")
    assert row["status"] == "dismissed" and row["dismissed_reason"] == "analyser fouled; cleaned 10:20"
    with session_scope(engine) as s:
        entries = log.entries(s, "stations")
        last = entries[-1]
        assert last.kind == "stations.alert.dismissed" and last.actor == "officer"
        assert json.loads(last.payload_json) == {
            "code": code,
            "reason": "analyser fouled; cleaned 10:20",
            "status_before": "open",
        }
        assert log.verify_chain(entries)[0]
        # a dismissed alert cannot be acknowledged or promoted
        for act in (
            lambda: acknowledge_alert(s, code, actor="officer"),
            lambda: open_incident_from_alert(s, code, actor="officer"),
            lambda: dismiss_alert(s, code, reason="again", actor="officer"),
        ):
            with pytest.raises(UserError, match="is dismissed"):
                act()
    # a rescan of every series finds the same events: they stay in the dismissed alert
    assert _rescan_everything(engine) == []
    with session_scope(engine) as s:
        rows = alerts(s)
    assert [(r["code"], r["status"]) for r in rows] == [(code, "dismissed")]


def test_an_event_after_a_dismissal_opens_a_new_alert(engine, stations, tmp_path):
    """The first spill's alert is dismissed; a second spill 10 h later (within the 12 h merge
    window) must raise its own alert rather than vanish into the dismissed one."""
    lines, _ = replay_lines(spill=True)
    _, (first,) = ingest(engine, _write(tmp_path, lines), actor="test")
    with session_scope(engine) as s:
        dismiss_alert(s, first, reason="drill", actor="officer")
    # the same feed 10 h later (only readings after the stored ones are new): a second pulse
    import time
    from datetime import timedelta

    from incident.stations import build_data_segment, frame, parse_packet

    later = []
    for line in lines:
        p = parse_packet(line)
        at = p.data_time + timedelta(hours=10)
        if at.timestamp() > time.time():
            continue  # data may not be in the future
        values = {r.code: r.value for r in p.readings}
        flags = {r.code: r.flag for r in p.readings}
        later.append(frame(build_data_segment(mn=p.mn, cn="2051", data_time=at, values=values, flags=flags)))
    path = tmp_path / "later.hj212"
    path.write_text("".join(later), encoding="ascii")
    _, codes = ingest(engine, path, actor="test")
    with session_scope(engine) as s:
        rows = {r["code"]: r for r in alerts(s)}
    assert rows[first]["status"] == "dismissed"
    assert codes and first not in codes
    assert all(rows[c]["status"] == "open" for c in codes)
