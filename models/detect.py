"""Change detection on an automatic station's series: a baseline, then a one- or two-sided CUSUM.

The baseline of a reading is a diurnal profile plus a recent level, both from data before it:

- the diurnal profile is, for each hour of the day, the median over the previous `diurnal_days` days
  of (value − that day's median), interpolated between hourly bin centres (so a smooth cycle leaves
  no steps), centred on zero; it needs two days of history and is zero before;
- the recent level is the median of the de-seasonalised values in the last `level_window_h` hours,
  recomputed every `update_h` hours from readings strictly before the update (causal); after a break
  (maintenance or calibration ended) only readings after the break count, and the detector stays
  silent until `min_history` of them exist.

The scale is the robust spread (1.4826·MAD) of the residuals over the last `scale_window_h` hours,
floored by an absolute instrument resolution and a fraction of the baseline, so a flat-lining
analyser cannot make a tiny σ.

The CUSUM (Page 1954) runs on z = residual/σ clipped to ±`z_cap` (a Huberised CUSUM: one spike
adds at most z_cap − k, below the threshold h, so isolated spikes never alarm):
S⁺ₙ = max(0, S⁺ₙ₋₁ + zₙ − k), an alarm when S⁺ₙ > h. For i.i.d. N(0,1) residuals Siegmund's
approximation gives the in-control run length ARL₀ ≈ (e^{2kb} − 2kb − 1)/(2k²), b = h + 1.166;
k = 0.5, h = 5 (the textbook choice) gives 938, i.e. a false alarm every 16 h of minute data. Station
noise is not i.i.d.: it wanders for hours (autocorrelation), drifts and steps after calibrations, so
the defaults are k = 4, h = 8, z_cap = 10: an alarm needs readings several σ beyond the baseline
for a few readings running (a pulse of ≥ 10σ alarms on its 2nd reading, one of 7σ on its 3rd). A
spill pulse is tens of σ; slow shifts that stay under 4σ are left to the class-limit rule. The
bench (bench/bench_stations.py) measures the false alarms left on a realistic feed.
The first abnormal reading of an event is the first after the last time S was zero (the CUSUM's
change-point estimate). An event ends when S returns to zero; one run of S above h is one event.

Missing values (NaN: gaps, invalid flags) are skipped: they neither add to S nor reset it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DetectorSettings", "Event", "Detection", "diurnal_offset", "detect", "SIEGMUND_B"]

SIEGMUND_B = 1.166  # Siegmund's correction: the boundary overshoot of a Gaussian random walk
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class DetectorSettings:
    direction: int = +1  # +1 detect rises, −1 falls (dissolved oxygen), 0 both (pH, temperature)
    k: float = 4.0  # CUSUM allowance, in σ
    h: float = 8.0  # CUSUM threshold, in σ
    z_cap: float = 10.0  # clip each standardised residual (one reading adds at most z_cap − k)
    level_window_h: float = 6.0
    scale_window_h: float = 48.0
    update_h: float = 0.25
    diurnal_days: int = 7
    diurnal_bins: int = 24
    min_history: int = 6  # valid readings after a break before the detector speaks
    min_scale: int = 24  # residuals needed in the scale window before σ is trusted
    warmup_h: float = 12.0  # hours of series before σ is trusted (noise can wander for hours)
    sigma_floor: float = 0.0  # absolute floor of σ (instrument resolution), in the value's unit
    rel_floor: float = 0.02  # floor of σ as a fraction of |baseline|
    limit_run: int = 3  # consecutive valid readings beyond the class limit make a limit event

    def __post_init__(self) -> None:
        if self.direction not in (-1, 0, 1):
            raise ValueError("direction must be +1, -1 or 0")
        for name in ("k", "h", "z_cap", "level_window_h", "scale_window_h", "update_h"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0")
        if self.z_cap <= self.k:
            raise ValueError("z_cap must exceed k, or no reading could move the CUSUM")
        if self.min_history < 1 or self.diurnal_days < 1 or self.diurnal_bins < 1 or self.limit_run < 1:
            raise ValueError("min_history, diurnal_days, diurnal_bins and limit_run must be ≥ 1")

    def arl0_iid(self) -> float:
        """Siegmund's in-control average run length (readings) for i.i.d. N(0,1) residuals, one side."""
        b = self.h + SIEGMUND_B
        two_kb = 2.0 * self.k * b
        return (math.exp(two_kb) - two_kb - 1.0) / (2.0 * self.k**2)


@dataclass(frozen=True)
class Event:
    kind: str  # "change" (CUSUM) or "limit" (class limit crossed for limit_run readings)
    start: int  # index of the first abnormal reading
    alarm: int  # index of the reading that raised the alarm
    end: int  # index of the last reading of the event (S back to zero, or the series' end)
    sign: int  # +1 a rise, −1 a fall
    peak_stat: float  # largest CUSUM statistic (σ) during the event (0 for limit events)
    over_limit: bool  # a reading of the event was beyond the class limit


@dataclass
class Detection:
    baseline: np.ndarray
    sigma: np.ndarray
    z: np.ndarray  # clipped standardised residual (NaN where skipped)
    stat_up: np.ndarray  # S⁺ after each reading
    stat_down: np.ndarray  # S⁻ after each reading
    events: list[Event] = field(default_factory=list)


def _interp_circular(centres: np.ndarray, values: np.ndarray, hour: np.ndarray) -> np.ndarray:
    xp = np.concatenate([centres - 24.0, centres, centres + 24.0])
    fp = np.concatenate([values, values, values])
    return np.interp(hour, xp, fp)


def diurnal_offset(t_h: np.ndarray, x: np.ndarray, *, days: int = 7, bins: int = 24) -> np.ndarray:
    """Per reading, the diurnal offset learnt from the previous `days` whole days (0 without 2 days).

    `t_h` are hours since a local midnight (so t_h mod 24 is the local hour).
    """
    t_h = np.asarray(t_h, dtype=float)
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(t_h)
    if t_h.size == 0:
        return out
    day = np.floor(t_h / 24.0).astype(np.int64)
    d0 = int(day.min())
    di = day - d0
    nd = int(di.max()) + 1
    hour = t_h - 24.0 * day
    b = np.minimum((hour / 24.0 * bins).astype(np.int64), bins - 1)
    valid = np.isfinite(x)
    table = np.full((nd, bins), np.nan)  # mean of (x − day median) per day and bin
    bounds = np.searchsorted(di, np.arange(nd + 1))  # readings are in time order
    for d in range(nd):
        lo, hi = bounds[d], bounds[d + 1]
        ok = valid[lo:hi]
        if ok.sum() < bins:  # too little of the day to say anything about its shape
            continue
        xs = x[lo:hi][ok]
        dev = xs - np.median(xs)
        bb = b[lo:hi][ok]
        cnt = np.bincount(bb, minlength=bins)
        sums = np.bincount(bb, weights=dev, minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[d] = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
    centres = (np.arange(bins) + 0.5) * 24.0 / bins
    for d in range(nd):
        past = table[max(0, d - days) : d]
        have = np.isfinite(past).all(axis=1)
        if have.sum() < 2:
            continue
        profile = np.median(past[have], axis=0)
        profile -= profile.mean()
        lo, hi = bounds[d], bounds[d + 1]
        out[lo:hi] = _interp_circular(centres, profile, hour[lo:hi])
    return out


def detect(
    t_h: np.ndarray,
    x: np.ndarray,
    settings: DetectorSettings | None = None,
    *,
    limit: float | None = None,
    breaks: np.ndarray | None = None,
) -> Detection:
    """Baseline, scale, CUSUM statistics and events for one station's parameter.

    `t_h`: hours since a local midnight, increasing. `x`: values, NaN where missing or not valid.
    `limit`: the class limit (upper for direction +1 and 0, lower for −1). `breaks`: True at the
    first reading after maintenance/calibration (the level restarts there).
    """
    s = settings or DetectorSettings()
    t_h = np.asarray(t_h, dtype=float)
    x = np.asarray(x, dtype=float)
    n = t_h.size
    if x.shape != t_h.shape:
        raise ValueError("t_h and x must have the same length")
    if n > 1 and np.any(np.diff(t_h) < 0):
        raise ValueError("t_h must be in time order")
    brk = np.zeros(n, dtype=bool) if breaks is None else np.asarray(breaks, dtype=bool)
    valid = np.isfinite(x)
    offset = diurnal_offset(t_h, x, days=s.diurnal_days, bins=s.diurnal_bins)
    y = np.where(valid, x - offset, np.nan)

    level = np.full(n, np.nan)
    sigma = np.full(n, np.nan)
    resid = np.full(n, np.nan)
    break_idx = np.flatnonzero(brk)
    if n:
        # update blocks: readings from one update time to the next share the level computed before them
        block = np.floor((t_h - t_h[0]) / s.update_h).astype(np.int64)
        starts = np.flatnonzero(np.concatenate([[True], block[1:] != block[:-1]]))
        ends = np.concatenate([starts[1:], [n]])
        for a, e in zip(starts.tolist(), ends.tolist(), strict=True):
            t_a = t_h[a]
            # the level window starts after the last break at or before this block's first reading
            kb = np.searchsorted(break_idx, a, side="right")
            first = int(break_idx[kb - 1]) if kb else 0
            lo = max(int(np.searchsorted(t_h, t_a - s.level_window_h)), first)
            window = y[lo:a]
            window = window[np.isfinite(window)]
            # a break inside this block: readings from the break on wait for the next block
            kb2 = np.searchsorted(break_idx, a, side="right")
            stop = int(break_idx[kb2]) if kb2 < break_idx.size and break_idx[kb2] < e else e
            if window.size >= s.min_history:
                lev = float(np.median(window))
                resid[a:stop] = y[a:stop] - lev
                slo = int(np.searchsorted(t_h, t_a - s.scale_window_h))
                past = resid[slo:a]
                past = past[np.isfinite(past)]
                if past.size < s.min_scale or t_a - t_h[0] < s.warmup_h:
                    continue  # not enough history to know the noise yet: stay silent
                spread = float(MAD_TO_SD * np.median(np.abs(past - np.median(past))))
                floor = max(s.sigma_floor, s.rel_floor * abs(lev + float(np.mean(offset[a:stop]))))
                sigma[a:stop] = max(spread, floor, 1e-12)
                level[a:stop] = lev
    baseline = level + offset
    with np.errstate(invalid="ignore"):
        z = np.clip(resid / sigma, -s.z_cap, s.z_cap)
    z[~valid] = np.nan

    up = np.zeros(n)
    down = np.zeros(n)
    events: list[Event] = []
    su = sd = 0.0
    start_u = start_d = -1
    alarm_u = alarm_d = -1
    peak_u = peak_d = 0.0
    over_u = over_d = False
    zl = z.tolist()
    xl = x.tolist()
    brl = brk.tolist()
    use_up = s.direction >= 0
    use_down = s.direction <= 0

    def beyond(v: float, sign: int) -> bool:
        if limit is None or not math.isfinite(v):
            return False
        return v > limit if sign > 0 else v < limit

    for i in range(n):
        if brl[i]:
            if alarm_u >= 0:
                events.append(Event("change", start_u, alarm_u, i - 1, +1, peak_u, over_u))
            if alarm_d >= 0:
                events.append(Event("change", start_d, alarm_d, i - 1, -1, peak_d, over_d))
            su = sd = 0.0
            alarm_u = alarm_d = -1
        zi = zl[i]
        if zi == zi:  # not NaN
            if use_up:
                if su == 0.0:
                    start_u = i
                su = max(0.0, su + zi - s.k)
                if su > 0.0:
                    peak_u = max(peak_u, su) if alarm_u >= 0 else su
                    if alarm_u >= 0:
                        over_u = over_u or beyond(xl[i], +1)
                    elif su > s.h:
                        alarm_u, peak_u = i, su
                        over_u = any(beyond(xl[j], +1) for j in range(start_u, i + 1))
                elif alarm_u >= 0:
                    events.append(Event("change", start_u, alarm_u, i, +1, peak_u, over_u))
                    alarm_u = -1
            if use_down:
                if sd == 0.0:
                    start_d = i
                sd = max(0.0, sd - zi - s.k)
                if sd > 0.0:
                    peak_d = max(peak_d, sd) if alarm_d >= 0 else sd
                    if alarm_d >= 0:
                        over_d = over_d or beyond(xl[i], -1)
                    elif sd > s.h:
                        alarm_d, peak_d = i, sd
                        over_d = any(beyond(xl[j], -1) for j in range(start_d, i + 1))
                elif alarm_d >= 0:
                    events.append(Event("change", start_d, alarm_d, i, -1, peak_d, over_d))
                    alarm_d = -1
        up[i], down[i] = su, sd
    if alarm_u >= 0:
        events.append(Event("change", start_u, alarm_u, n - 1, +1, peak_u, over_u))
    if alarm_d >= 0:
        events.append(Event("change", start_d, alarm_d, n - 1, -1, peak_d, over_d))
    if limit is not None:
        events.extend(_limit_events(x, baseline, limit, s, events))
    events.sort(key=lambda ev: (ev.alarm, ev.kind))
    return Detection(baseline=baseline, sigma=sigma, z=z, stat_up=up, stat_down=down, events=events)


def _limit_events(
    x: np.ndarray, baseline: np.ndarray, limit: float, s: DetectorSettings, changes: list[Event]
) -> list[Event]:
    """Runs of `limit_run` valid readings beyond the limit, from a baseline within it, not already
    inside a change event."""
    sign = -1 if s.direction < 0 else +1
    with np.errstate(invalid="ignore"):
        beyond = (x < limit) if sign < 0 else (x > limit)
        base_ok = (baseline >= limit) if sign < 0 else (baseline <= limit)
    out: list[Event] = []
    run = back = 0
    start = -1
    in_event = False
    for i in range(x.size):
        if not math.isfinite(x[i]):
            continue  # gaps neither extend nor break a run
        if beyond[i]:
            back = 0
            if in_event:
                continue
            if run == 0:
                start = i
            run += 1
            if run == s.limit_run and bool(base_ok[start]):
                in_event = True
                covered = any(ev.start <= i <= ev.end and ev.sign == sign for ev in changes)
                if not covered:
                    out.append(Event("limit", start, i, x.size - 1, sign, 0.0, True))
        else:
            run = 0
            if in_event:
                back += 1
                if back == s.limit_run:  # hysteresis: back within the limit for limit_run readings
                    if out and out[-1].start == start:
                        out[-1] = Event("limit", start, out[-1].alarm, i, sign, 0.0, True)
                    in_event = False
                    back = 0
    return out
