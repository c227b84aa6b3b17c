"""One route's live tracker: geofences on every fix, debounced ETA windows, and their events."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from lastmile.eta.config import TrackingConfig
from lastmile.eta.events import Arrived, Arriving, AtRisk, Departed, EtaChanged, TrackingEvent
from lastmile.eta.learning import FleetLearning
from lastmile.eta.legs import LegModel, distance_m, distances_m
from lastmile.eta.model import Fix, StopEta, StopPlan, StopState, StopStatus
from lastmile.eta.pace import pace_factor
from lastmile.eta.track import NOT_REACHED, Prediction, StopTrack, track_from_state, track_state

STATE_VERSION = 1


class RouteTracker:
    """
    Follows one vehicle along its committed route; pure and deterministic.

    Every fix moves the geofences (arrived / departed); ETA windows are recomputed at most
    every ``debounce_s`` of fix time, and at once when a stop is reached or left. Arrivals and
    departures teach the shared :class:`FleetLearning` (residuals, dwell per method) and the
    route's own pace factor.

    Parameters
    ----------
    route_id
        For the caller; not interpreted.
    stops
        Stops in planned order, with unique ``stop_id``.
    learning
        The organisation's shared learning (dwell medians, residual pool).
    config
        Geofence and event settings.
    start
        Where the route starts (lat, lon), e.g. the depot; gives the first leg a speed and
        holds predictions to the planned start while the vehicle waits there.
    """

    def __init__(
        self,
        route_id: str,
        stops: Sequence[StopPlan],
        learning: FleetLearning,
        config: TrackingConfig = TrackingConfig(),
        start: tuple[float, float] | None = None,
    ) -> None:
        if not stops:
            raise ValueError("a route needs at least one stop")
        self.route_id = route_id
        self.stops = tuple(stops)
        self.learning = learning
        self.config = config
        self.start = start
        self._index = {stop.stop_id: i for i, stop in enumerate(self.stops)}
        if len(self._index) != len(self.stops):
            raise ValueError("stop ids must be unique within a route")
        self._legs = LegModel(
            self.stops,
            start,
            min_leg_m=config.min_leg_m,
            fallback_speed_mps=config.fallback_speed_mps,
            arrive_radius_m=config.arrive_radius_m,
            depart_radius_m=config.depart_radius_m,
        )
        self._tracks = [StopTrack() for _ in self.stops]
        self._pending = list(range(len(self.stops)))  # not reached yet, ascending
        self._open: list[int] = []  # arrived, not departed, in arrival order
        self._cursor = 0  # planned index after the stop reached last
        self._previous: int | None = None  # the stop left last
        self._leg_from: tuple[int, float] | None = None  # (stop, departed_at) of the open leg
        self._ratios: list[float] = []  # observed / planned of completed legs
        self._fix: Fix | None = None
        self._recomputed_at: float | None = None
        self._recorded_at: float | None = None

    # --- reading ---------------------------------------------------------------------------

    @property
    def stop_states(self) -> Mapping[str, StopState]:
        """Visit state of every stop, by stop id."""
        return {s.stop_id: t.view() for s, t in zip(self.stops, self._tracks, strict=True)}

    @property
    def next_stop_id(self) -> str | None:
        """The stop the driver is at or heading to (first not departed), None when done."""
        if self._open:
            return self.stops[self._open[-1]].stop_id
        sequence = self._sequence()
        return self.stops[sequence[0]].stop_id if sequence else None

    @property
    def pace(self) -> float:
        """The driver's pace today: planned driving seconds are multiplied by it."""
        c = self.config
        recent = self._ratios[-c.pace_window_legs :]
        return pace_factor(
            recent,
            prior_legs=c.pace_prior_legs,
            lower=c.pace_min,
            upper=c.pace_max,
            prior=self.learning.fleet_pace,
        )

    def etas(self, now: float | None = None) -> list[StopEta]:
        """
        Windows of every stop not yet reached, in expected visiting order.

        Parameters
        ----------
        now
            Time of the prediction; the last fix's time by default (the planned start before
            any fix).
        """
        return [eta for eta, _ in self._predict(self._now(now))]

    # --- input -----------------------------------------------------------------------------

    def observe(self, fix: Fix) -> list[TrackingEvent]:
        """
        Take one accepted fix; returns the events it causes, in time order.

        A fix older than the last one is ignored (the engine only moves forward); a fix less
        accurate than ``max_accuracy_m`` moves the ETA but no geofence.
        """
        if self._fix is not None and fix.t < self._fix.t:
            return []
        self._fix = fix
        events: list[TrackingEvent] = []
        changed = False
        if fix.accuracy_m is None or fix.accuracy_m <= self.config.max_accuracy_m:
            changed = self._geofence(fix, events)
        last = self._recomputed_at
        if changed or last is None or fix.t - last >= self.config.debounce_s:
            self._recompute(fix.t, events)
        return events

    def confirm_arrival(self, stop_id: str, t: float) -> list[TrackingEvent]:
        """The driver says they are at the stop; nothing happens if it was already reached."""
        i = self._index[stop_id]
        events: list[TrackingEvent] = []
        if self._tracks[i].status in NOT_REACHED:
            self._arrive(i, t, t, events, manual=True)
            self._recompute(self._now(t), events)
        return events

    def confirm_departure(self, stop_id: str, t: float) -> list[TrackingEvent]:
        """The driver says the stop is done (arriving first if it was never reached)."""
        i = self._index[stop_id]
        events: list[TrackingEvent] = []
        if self._tracks[i].status in NOT_REACHED:
            self._arrive(i, t, t, events, manual=True)
        if self._tracks[i].status is StopStatus.ARRIVED:
            self._depart(i, t, t, events, manual=True)
            self._recompute(self._now(t), events)
        return events

    # --- geofences -------------------------------------------------------------------------

    def _geofence(self, fix: Fix, events: list[TrackingEvent]) -> bool:
        """Move stops in and out of their zones; whether any stop was reached or left."""
        c = self.config
        distance = distances_m(fix.lat, fix.lon, self._legs.lats, self._legs.lons)
        slack = min(fix.accuracy_m or 0.0, c.accuracy_slack_m)
        arrive_r, depart_r = c.arrive_radius_m + slack, c.depart_radius_m + slack
        changed = False
        for i in list(self._open):
            track = self._tracks[i]
            if distance[i] <= depart_r:
                track.outside_since, track.outside_fixes = None, 0
                continue
            if track.outside_since is None:
                track.outside_since = fix.t
            track.outside_fixes += 1
            if track.outside_fixes >= c.depart_fixes:
                self._depart(i, track.outside_since, fix.t, events)
                changed = True
        reach = bisect.bisect_left(self._pending, self._cursor + c.lookahead_stops)
        for i in self._pending[:reach]:
            track = self._tracks[i]
            if distance[i] <= arrive_r:
                if track.inside_since is None:
                    track.inside_since = fix.t
                track.misses = 0
                if fix.t - track.inside_since >= c.arrive_dwell_s:
                    self._arrive(i, track.inside_since, fix.t, events)
                    changed = True
            elif track.inside_since is not None:
                track.misses += 1
                if distance[i] > depart_r or track.misses >= c.depart_fixes:
                    track.inside_since, track.misses = None, 0  # passed by without stopping
        return changed

    def _arrive(
        self, i: int, at: float, t: float, events: list[TrackingEvent], *, manual: bool = False
    ) -> None:
        stop, track = self.stops[i], self._tracks[i]
        # An open stop far from this one was left (a gap in the fixes, or a confirmation).
        for j in list(self._open):
            if distance_m(self._legs.point(i), self._legs.point(j)) > self.config.depart_radius_m:
                left = self._tracks[j].outside_since
                self._depart(j, at if left is None else min(left, at), t, events)
        for j in self._open:
            self._tracks[j].shared = track.shared = True
        track.status, track.arrived_at, track.manual_arrival = StopStatus.ARRIVED, at, manual
        track.inside_since, track.misses = None, 0
        events.append(Arrived(stop.stop_id, t, at, manual))
        if self._leg_from is not None and self._leg_from[0] == i - 1:
            planned = self._legs.between_s(i - 1, i)
            observed = at - self._leg_from[1]
            if planned >= self.config.pace_min_leg_s and observed > 0:
                self._ratios.append(observed / planned)
                self.learning.observe_leg(observed / planned)
        self._leg_from = None
        # In the driver's own time (seconds over pace): a slow driver's errors are longer too.
        self.learning.observe_residuals(
            (((at - p.made_at) / p.pace, (at - p.raw) / p.pace) for p in track.predictions),
            self.route_id,
        )
        track.predictions.clear()
        self._pending.remove(i)
        self._open.append(i)
        self._cursor = i + 1

    def _depart(
        self, i: int, at: float, t: float, events: list[TrackingEvent], *, manual: bool = False
    ) -> None:
        stop, track = self.stops[i], self._tracks[i]
        arrived_at = at if track.arrived_at is None else track.arrived_at
        at = max(at, arrived_at)
        track.status, track.departed_at, track.manual_departure = StopStatus.DEPARTED, at, manual
        track.outside_since, track.outside_fixes = None, 0
        dwell = at - arrived_at
        if not track.shared:
            self.learning.observe_dwell(stop.method, dwell)
        events.append(Departed(stop.stop_id, t, at, dwell, manual))
        self._open.remove(i)
        self._previous = i
        self._leg_from = (i, at)

    # --- predictions -----------------------------------------------------------------------

    def _now(self, now: float | None) -> float:
        if now is not None:
            return now if self._fix is None else max(now, self._fix.t)
        if self._fix is not None:
            return self._fix.t
        return self.stops[0].planned_arrival - self.stops[0].travel_s

    def _sequence(self) -> list[int]:
        """Stops not reached, in the order expected: those after the last one reached, then
        those skipped before it (assumed served at the end)."""
        split = bisect.bisect_left(self._pending, self._cursor)
        return self._pending[split:] + self._pending[:split]

    def _predict(self, now: float) -> list[tuple[StopEta, float]]:
        """(window, raw prediction) for every stop not reached, in expected order."""
        sequence = self._sequence()
        if not sequence:
            return []
        learning, legs, pace = self.learning, self._legs, self.pace
        position = None if self._fix is None else (self._fix.lat, self._fix.lon)
        t, previous = now, self._previous
        serving = len(self._open)  # stops being served count as still to serve
        if self._open:
            # Still at a stop: finish its expected dwell, then leave from there.
            for j in self._open:
                track = self._tracks[j]
                assert track.arrived_at is not None
                dwell = self._dwell_s(self.stops[j])
                t += max(0.0, track.arrived_at + dwell - now)
            previous, position = self._open[-1], None
        elif previous is None:
            # Not started: a vehicle waiting at the start leaves at the planned time.
            planned_start = self.stops[0].planned_arrival - self.stops[0].travel_s
            waiting = (
                position is None
                or self.start is None
                or distance_m(position, self.start) <= self.config.depart_radius_m
            )
            if now < planned_start and waiting:
                t, position = planned_start, self.start
        out: list[tuple[StopEta, float]] = []
        for k, j in enumerate(sequence):
            stop = self.stops[j]
            if k == 0 and position is not None:
                travel = legs.approach_s(distance_m(position, legs.point(j)), j)
            else:
                travel = legs.between_s(previous, j)
            raw = t + travel * pace
            lo, mid, hi = (pace * v for v in learning.window((raw - now) / pace))
            earliest = max(now, raw + lo)
            expected = max(earliest, raw + mid)
            latest = max(expected, raw + hi)
            late = stop.promised_end is not None and latest > stop.promised_end - (
                self.config.at_risk_clear_margin_s if self._tracks[j].at_risk else 0.0
            )
            ahead = k + serving
            out.append((StopEta(stop.stop_id, expected, earliest, latest, ahead, late), raw))
            begin = raw if stop.not_before is None else max(raw, stop.not_before)
            t, previous = begin + self._dwell_s(stop), j
        return out

    def _dwell_s(self, stop: StopPlan) -> float:
        # Measured dwell runs from entering the arrival circle to leaving the departure circle;
        # until it is learnt, the handling default needs that driving added.
        legs = self._legs
        in_zones = (legs.arrive_radius_m + legs.depart_radius_m) / legs.typical_speed_mps
        return self.learning.dwell_s(stop.method, in_zones)

    def _recompute(self, now: float, events: list[TrackingEvent]) -> None:
        """Fresh windows: record them for learning and report what changed."""
        c = self.config
        self._recomputed_at = now
        # Sampled on a clock, not when a prediction enters a horizon band: entering a band
        # early is more likely right after an optimistic jump, which would bias the pool.
        record = self._recorded_at is None or now - self._recorded_at >= c.record_every_s
        if record:
            self._recorded_at = now
        pace = self.pace
        for eta, raw in self._predict(now):
            i = self._index[eta.stop_id]
            stop, track = self.stops[i], self._tracks[i]
            if record:
                track.predictions.append(Prediction(now, raw, pace))
                del track.predictions[: -c.max_predictions_per_stop]
            soon = eta.expected - now <= c.arriving_minutes * 60
            if track.status is StopStatus.PENDING and (eta.stops_before < c.arriving_stops or soon):
                track.status, track.arriving_at = StopStatus.ARRIVING, now
                events.append(Arriving(eta.stop_id, now, eta.expected, eta.stops_before))
            if track.reported is None:
                track.reported = (eta.earliest, eta.latest)
            elif (
                max(abs(eta.earliest - track.reported[0]), abs(eta.latest - track.reported[1]))
                > c.eta_change_threshold_s
            ):
                track.reported = (eta.earliest, eta.latest)
                events.append(EtaChanged(eta.stop_id, now, eta.expected, eta.earliest, eta.latest))
            if stop.promised_end is not None and eta.at_risk != track.at_risk:
                track.at_risk = eta.at_risk
                events.append(AtRisk(eta.stop_id, now, eta.at_risk, eta.latest, stop.promised_end))

    # --- persistence -----------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-able snapshot, so a server can keep the tracker in its database and resume."""
        ids = [stop.stop_id for stop in self.stops]
        leg_from = self._leg_from
        return {
            "version": STATE_VERSION,
            "route_id": self.route_id,
            "start": None if self.start is None else list(self.start),
            "fix": None if self._fix is None else asdict(self._fix),
            "recomputed_at": self._recomputed_at,
            "recorded_at": self._recorded_at,
            "cursor": self._cursor,
            "previous": None if self._previous is None else ids[self._previous],
            "leg_from": None if leg_from is None else [ids[leg_from[0]], leg_from[1]],
            "ratios": list(self._ratios),
            "open": [ids[j] for j in self._open],
            "stops": {ids[i]: track_state(track) for i, track in enumerate(self._tracks)},
        }

    @classmethod
    def from_state(
        cls,
        route_id: str,
        stops: Sequence[StopPlan],
        learning: FleetLearning,
        state: Mapping[str, Any],
        config: TrackingConfig = TrackingConfig(),
    ) -> RouteTracker:
        """
        Resume a tracker from :meth:`to_state` over the same stops.

        Raises
        ------
        ValueError
            If the state has another version or describes other stops.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError("unknown RouteTracker state version")
        start = state["start"]
        tracker = cls(route_id, stops, learning, config, None if start is None else tuple(start))
        index = tracker._index
        if set(state["stops"]) != set(index):
            raise ValueError("the state describes other stops")
        tracker._tracks = [track_from_state(state["stops"][s.stop_id]) for s in tracker.stops]
        tracker._pending = [i for i, t in enumerate(tracker._tracks) if t.status in NOT_REACHED]
        tracker._open = [index[stop_id] for stop_id in state["open"]]
        tracker._cursor = int(state["cursor"])
        tracker._previous = None if state["previous"] is None else index[state["previous"]]
        leg_from = state["leg_from"]
        tracker._leg_from = None if leg_from is None else (index[leg_from[0]], float(leg_from[1]))
        tracker._ratios = [float(r) for r in state["ratios"]]
        tracker._fix = None if state["fix"] is None else Fix(**state["fix"])
        tracker._recomputed_at = state["recomputed_at"]
        tracker._recorded_at = state["recorded_at"]
        return tracker
