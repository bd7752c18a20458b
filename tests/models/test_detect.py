"""Baseline + CUSUM change detection (models/detect.py) and the synthetic feeds (models/feeds.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.detect import DetectorSettings, detect, diurnal_offset
from models.feeds import PROFILES, FeedSpec, synthetic_feed

DT_H = 5 / 60  # 5-minute readings


def _quiet(days=3.0, sd=0.02, level=0.35, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(int(days * 24 / DT_H)) * DT_H
    return t, level + rng.standard_normal(t.size) * sd


def test_siegmund_arl_of_the_textbook_cusum():
    # k = 0.5, h = 5: b = 6.166, ARL0 = (e^6.166 − 6.166 − 1)/0.5 ≈ 938 readings
    assert DetectorSettings(k=0.5, h=5.0, z_cap=10).arl0_iid() == pytest.approx(938.4, rel=1e-3)


def test_step_of_twenty_sigma_alarms_on_its_second_reading_with_the_right_start():
    t, x = _quiet()
    at = int(2.5 * 24 / DT_H)
    x[at:] += 20 * 0.02  # z clipped at 10: +6 per reading, S = 6 then 12 > h = 8
    det = detect(t, x)
    (event,) = [e for e in det.events if e.kind == "change"]
    assert (event.start, event.alarm, event.sign) == (at, at + 1, +1)
    assert det.stat_up[at] == pytest.approx(6.0) and det.stat_up[at + 1] == pytest.approx(12.0)
    assert det.baseline[at] == pytest.approx(0.35, abs=0.01)


def test_seven_sigma_pulse_alarms_on_its_third_reading():
    # a flat-lining analyser: σ is the floor, 2 % of the baseline = 0.02
    t = np.arange(int(3 * 24 / DT_H)) * DT_H
    x = np.ones(t.size)
    at = int(2.5 * 24 / DT_H)
    x[at : at + 6] += 7 * 0.02  # z = 7: S = 3, 6, 9 > 8
    det = detect(t, x)
    assert det.sigma[at] == pytest.approx(0.02)
    (event,) = det.events
    assert (event.start, event.alarm) == (at, at + 2)


def test_isolated_spikes_never_alarm():
    t, x = _quiet()
    x[400::97] += 5.0  # each one z-capped: +6 < h
    assert detect(t, x).events == []


def test_a_dissolved_oxygen_drop_is_seen_only_by_a_falling_detector():
    t, x = _quiet(level=7.5, sd=0.1)
    at = int(2.5 * 24 / DT_H)
    x[at : at + 24] -= 3.0
    falls = detect(t, x, DetectorSettings(direction=-1)).events
    assert [(e.sign, e.start) for e in falls] == [(-1, at)]
    assert detect(t, x, DetectorSettings(direction=+1)).events == []
    both = detect(t, x, DetectorSettings(direction=0)).events
    assert [e.sign for e in both] == [-1]


def test_event_ends_when_the_level_catches_up():
    t, x = _quiet(days=4)
    at = int(2.5 * 24 / DT_H)
    x[at:] += 1.0  # a sustained step: the 6 h median absorbs it after ~3 h
    det = detect(t, x)
    (event,) = det.events
    # the median is past the step after 3 h; S (peak ≈ 6 per reading × 3 h) then drains at k per reading
    drain_h = event.peak_stat / 4.0 * DT_H
    assert 3.0 < t[event.end] - t[at] < 3.0 + drain_h + 1.0
    assert det.baseline[-1] == pytest.approx(1.35, abs=0.02)


def test_gaps_are_skipped_not_reset():
    t, x = _quiet()
    at = int(2.5 * 24 / DT_H)
    x[at : at + 8] += 20 * 0.02
    x[at + 1 : at + 5] = np.nan
    (event,) = detect(t, x).events
    assert (event.start, event.alarm) == (at, at + 5)


def test_a_calibration_step_after_a_break_does_not_alarm_but_without_the_break_it_does():
    t, x = _quiet()
    at = int(2.5 * 24 / DT_H)
    x[at - 24 : at] = np.nan  # 2 h of maintenance
    x[at:] += 0.4  # the recalibrated instrument reads 20σ higher
    breaks = np.zeros(t.size, dtype=bool)
    breaks[at] = True
    assert detect(t, x, breaks=breaks).events == []
    assert len(detect(t, x).events) == 1


def test_class_limit_event_for_a_slow_rise():
    t, x = _quiet(days=4, sd=0.02, level=0.8)
    at = int(2.0 * 24 / DT_H)
    x[at:] += np.linspace(0, 0.6, t.size - at)  # too slow for the CUSUM: crosses 1.0 mg/L
    events = detect(t, x, limit=1.0).events
    limits = [e for e in events if e.kind == "limit"]
    assert len(limits) == 1 and limits[0].over_limit
    first_over = limits[0].start
    assert x[first_over] > 1.0 and np.all(x[first_over : limits[0].alarm + 1] > 1.0)
    assert [e for e in events if e.kind == "change"] == []
    # a station already over the limit in its baseline does not alarm on the limit
    assert [e for e in detect(t, x + 0.5, limit=1.0).events if e.kind == "limit"] == []


def test_pulse_over_the_limit_is_one_change_event_marked_over_limit():
    t, x = _quiet()
    at = int(2.5 * 24 / DT_H)
    x[at : at + 12] += 2.0
    (event,) = detect(t, x, limit=1.0).events
    assert event.kind == "change" and event.over_limit


def test_diurnal_offset_learns_a_sine_from_previous_days():
    t = np.arange(int(5 * 24 / DT_H)) * DT_H
    cycle = 1.0 * np.cos(2 * np.pi * (t - 15.0) / 24.0)
    off = diurnal_offset(t, 7.5 + cycle)
    first_two = t < 48
    assert np.all(off[first_two] == 0.0)
    later = t >= 48
    # hourly bins interpolated: a sine of amplitude 1 is recovered within 2 %
    assert np.max(np.abs(off[later] - cycle[later])) < 0.02


def test_settings_refuse_nonsense():
    with pytest.raises(ValueError):
        DetectorSettings(direction=2)
    with pytest.raises(ValueError):
        DetectorSettings(k=4, z_cap=3)
    with pytest.raises(ValueError):
        detect(np.array([1.0, 0.0]), np.array([1.0, 1.0]))


def test_feed_has_gaps_maintenance_and_breaks():
    spec = FeedSpec(0.35, 0.05, 0.02, maintenance_per_month=10, gaps_per_day=2)
    feed = synthetic_feed(spec, days=10, interval_min=5, rng=np.random.default_rng(3))
    assert np.isnan(feed.value).any()
    assert (feed.flag == "M").any() and (feed.flag == "C").any()
    assert feed.breaks.sum() >= 1
    clean = feed.clean()
    assert np.all(np.isnan(clean[feed.flag != "N"]))
    # marginal sd of the AR(1) noise kept at noise_sd (spikes and drift aside)
    quiet = FeedSpec(
        0.0, 0.0, 0.5, noise_tau_h=0.5, spikes_per_day=0, gaps_per_day=0, maintenance_per_month=0, floor=-1e9
    )
    q = synthetic_feed(quiet, days=30, interval_min=5, rng=np.random.default_rng(4))
    assert np.std(q.value) == pytest.approx(0.5, rel=0.1)


def test_noise_only_feeds_raise_no_alarm():
    """Two stations, every parameter, 15 days of 5-minute data: no event (the bench measures more)."""
    directions = {"dissolved_oxygen": -1, "ph": 0, "water_temperature": 0}
    events = 0
    for station in range(2):
        rng = np.random.default_rng(100 + station)
        for name, spec in PROFILES.items():
            feed = synthetic_feed(spec, days=15, interval_min=5, rng=rng)
            settings = DetectorSettings(direction=directions.get(name, 1))
            events += len(detect(feed.t_h, feed.clean(), settings, breaks=feed.breaks).events)
    assert events == 0
