"""Reports for a period: the summary per group with its totals, and the plots."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.db.repository import TenantScope
from lastmile.driver.models import FailureReason
from lastmile.fleet.models import Depot, Driver, VehicleType
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Unprocessable, field_error
from lastmile.organizations.repository import get_organization
from lastmile.reports import svg
from lastmile.reports.metrics import (
    GroupMetrics,
    Key,
    ReportData,
    delay_histogram,
    overall,
    summarize,
)
from lastmile.reports.repository import ReportRepository
from lastmile.reports.schemas import GroupBy, PlotName, ReportRow, ReportSummary

MAX_DAYS = 366
DEFAULT_DAYS = 14

VEHICLE_TYPES = {
    VehicleType.van: "Diesel van",
    VehicleType.ev_van: "Electric van",
    VehicleType.cargo_bike: "Cargo bike",
    VehicleType.drone: "Drone",
}
VEHICLE_COLOURS = {
    VehicleType.van: "#475569",
    VehicleType.ev_van: svg.BLUE,
    VehicleType.cargo_bike: svg.GREEN,
    VehicleType.drone: "#7c3aed",
}
REASONS = {
    FailureReason.not_home: "Not at home",
    FailureReason.no_access: "No access",
    FailureReason.refused: "Refused",
    FailureReason.damaged: "Damaged",
    FailureReason.wrong_address: "Wrong address",
    FailureReason.unsafe: "Unsafe",
}
AMBER = "#d97706"
RED = "#dc2626"


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def checked_period(first: date | None, last: date | None, today: date) -> Period:
    """The period asked for: by default the ``DEFAULT_DAYS`` days up to ``last`` (or today);
    422 naming the field when ``to`` is before ``from`` or the period is over a year."""
    last = last or (max(today, first) if first else today)
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise Unprocessable(
            "'to' is before 'from'.", errors=[field_error(["query", "to"], "before 'from'")]
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise Unprocessable(
            f"A report covers at most {MAX_DAYS} days.",
            errors=[field_error(["query", "from"], f"more than {MAX_DAYS} days before 'to'")],
        )
    return Period(first, last)


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


def _percent(rate: float | None) -> str:
    return "no data" if rate is None else f"{rate * 100:.1f} %"


class ReportService:
    """Read-only: reports never change anything."""

    def __init__(self, session: Session, scope: TenantScope, settings: Settings) -> None:
        self.session = session
        self.scope = scope
        self.reports = ReportRepository(session, scope)
        self.grid_kg_per_kwh = settings.grid_kg_co2e_per_kwh
        self.grid_g_per_kwh = settings.grid_kg_co2e_per_kwh * 1000

    def period(self, first: date | None, last: date | None) -> Period:
        """``checked_period`` with today in the organization's time zone."""
        zone = ZoneInfo(get_organization(self.session, self.scope.organization_id).timezone)
        return checked_period(first, last, utcnow().astimezone(zone).date())

    def summary(self, period: Period, group_by: GroupBy) -> ReportSummary:
        data = self.reports.data(group_by, period.first, period.last)
        groups = summarize(data, self.grid_g_per_kwh)
        labels = self._labels(group_by, [g.key for g in groups])
        rows = [self._row(g, labels[g.key]) for g in groups]
        if group_by is not GroupBy.day:
            rows.sort(key=lambda r: (r.key is None, r.label.casefold()))
        return ReportSummary(
            from_=period.first, to=period.last, group_by=group_by,
            grid_kg_co2e_per_kwh=self.grid_kg_per_kwh, rows=rows,
            totals=self._row(overall(data, self.grid_g_per_kwh), "Total"),
        )  # fmt: skip

    @staticmethod
    def _row(metrics: GroupMetrics, label: str) -> ReportRow:
        fields = asdict(metrics)
        fields["failure_reasons"] = {r.value: metrics.failure_reasons.get(r.value, 0)
                                     for r in FailureReason} | metrics.failure_reasons  # fmt: skip
        return ReportRow(**fields, label=label)

    def _labels(self, group_by: GroupBy, keys: list[Key]) -> dict[Key, str]:
        """What each group is called: a driver's or hub's name, a vehicle type, the day."""
        named: dict[GroupBy, type[Depot] | type[Driver]] = {
            GroupBy.hub: Depot, GroupBy.driver: Driver
        }  # fmt: skip
        model = named.get(group_by)
        names: dict[Key, str] = {}
        ids = [k for k in keys if k is not None]
        if model is not None and ids:
            rows = self.session.execute(
                select(model.id, model.name).where(
                    model.id.in_(ids), model.organization_id == self.scope.organization_id
                )
            )
            names = {id_: name for id_, name in rows}
        if group_by is GroupBy.vehicle_type:
            names = {t.value: label for t, label in VEHICLE_TYPES.items()}
        missing = "No driver" if group_by is GroupBy.driver else "Unknown"
        return {k: names.get(k, k) if k is not None else missing for k in keys}

    # --- plots ------------------------------------------------------------------------------

    def plot(self, name: PlotName, period: Period) -> str:
        draw = {
            PlotName.on_time: self._on_time,
            PlotName.failure_reasons: self._failure_reasons,
            PlotName.co2_by_vehicle_type: self._co2_by_vehicle_type,
            PlotName.eta_error: self._eta_error,
        }
        return draw[name](period)

    def _on_time(self, period: Period) -> str:
        orders = self.reports.order_rows(GroupBy.day, period.first, period.last)
        by_day = {g.key: g for g in summarize(ReportData(orders=orders), self.grid_g_per_kwh)}
        total = overall(ReportData(orders=orders), self.grid_g_per_kwh)

        def percent(day: date, rate: str) -> float | None:
            group = by_day.get(day.isoformat())
            value = getattr(group, rate) if group else None
            return None if value is None else round(value * 100, 1)

        chart = svg.Chart(
            "on_time", "On time and first-attempt success per day",
            f"From {period.first} to {period.last}: {_percent(total.on_time_rate)} of "
            f"{total.on_time_basis} deliveries with a promised window arrived inside it; "
            f"{_percent(total.first_attempt_rate)} of attempted orders were delivered at the "
            "first attempt.",
        )  # fmt: skip
        series = [
            svg.Series("On time", [percent(d, "on_time_rate") for d in period.days], svg.GREEN),
            svg.Series("First attempt",
                       [percent(d, "first_attempt_rate") for d in period.days], svg.BLUE),
        ]  # fmt: skip
        labels = [_short(d) for d in period.days]
        return svg.line_chart(chart, labels, series, unit="%", top=100, digits=1)

    def _failure_reasons(self, period: Period) -> str:
        reasons = self.reports.reason_rows(GroupBy.day, period.first, period.last)
        counts = overall(ReportData(reasons=reasons), self.grid_g_per_kwh).failure_reasons
        bars = [(label, float(counts.get(r.value, 0))) for r, label in REASONS.items()]
        listed = ", ".join(f"{label} {value:.0f}" for label, value in bars)
        chart = svg.Chart(
            "failure_reasons", "Failed attempts by reason",
            f"Failed delivery attempts from {period.first} to {period.last}, by the reason the "
            f"driver gave: {listed}.",
        )  # fmt: skip
        return svg.bar_chart(chart, bars, colour=AMBER)

    def _co2_by_vehicle_type(self, period: Period) -> str:
        summary = self.summary(period, GroupBy.vehicle_type)
        rows = {r.key: r for r in summary.rows}
        present = [t for t in VEHICLE_TYPES if t.value in rows]
        bars = [(VEHICLE_TYPES[t], rows[t.value].co2_kg) for t in present]
        per_parcel = "; ".join(
            f"{VEHICLE_TYPES[t]} {rows[t.value].co2_kg:.1f} kg"
            + (f" ({g:.0f} g per parcel)" if (g := rows[t.value].co2_g_per_parcel) is not None
               else "")
            for t in present
        )  # fmt: skip
        chart = svg.Chart(
            "co2_by_vehicle_type", "CO2e by vehicle type",
            f"Kilograms CO2e from {period.first} to {period.last} (distance times each "
            f"vehicle's factor, electricity at {self.grid_kg_per_kwh} kg per kWh): "
            f"{per_parcel or 'no routes'}.",
        )  # fmt: skip
        colours = [VEHICLE_COLOURS[t] for t in present]
        return svg.bar_chart(chart, bars, unit=" kg", digits=1, colours=colours)

    def _eta_error(self, period: Period) -> str:
        delays = self.reports.delay_rows(GroupBy.day, period.first, period.last)
        stats = overall(ReportData(delays=delays), self.grid_g_per_kwh)
        bins = delay_histogram(delays)
        width = bins[1][0] - bins[0][0]
        bars, colours = [], []
        for i, (start, stops) in enumerate(bins):
            if i == 0:
                label = f"< {start + width}"
            elif i == len(bins) - 1:
                label = f"{start}+"
            else:
                label = f"{start:+d}" if start else "0"
            bars.append((label, float(stops)))
            colours.append(svg.BLUE if start < 0 else svg.GREEN if start < 15 else
                           AMBER if start < 30 else RED)  # fmt: skip
        median = stats.arrival_delay_median_min
        chart = svg.Chart(
            "eta_error", "Arrival against plan (minutes)",
            f"Stops reached from {period.first} to {period.last} by minutes between the "
            f"planned and the actual arrival, in {width}-minute bins (negative: early); "
            + ("no stops reached." if median is None else
               f"median {median:+.0f} min, 90 % within {stats.arrival_delay_p90_min:.0f} min."),
        )  # fmt: skip
        return svg.bar_chart(chart, bars, colours=colours, gap=0.12)
