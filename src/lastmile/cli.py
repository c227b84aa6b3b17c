"""The ``lastmile`` command: serve, demo, import, migrate, users, API keys, benchmarks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from lastmile.auth import service as auth
from lastmile.auth.models import Role
from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.db.migrate import upgrade
from lastmile.notifications.commands import notifications_app
from lastmile.organizations.models import Merchant, Organization
from lastmile.organizations.service import create_organization

app = typer.Typer(help="Lastmile: self-hostable last-mile delivery platform.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks; --json makes the last output line one JSON object.")
app.add_typer(bench_app, name="bench")
app.add_typer(notifications_app, name="notifications")
console = Console(stderr=True)
out = Console()


def _database(settings: Settings) -> Database:
    db = Database(settings.effective_database_url)
    upgrade(db.url)
    return db


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
) -> None:
    """Run the HTTP server (migrates the database first)."""
    import uvicorn

    settings = Settings()
    upgrade(settings.effective_database_url)
    console.print(f"Lastmile on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run("lastmile.app:create_app", factory=True, host=host, port=port, workers=workers)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = Settings()
    upgrade(settings.effective_database_url)
    console.print("[green]Database is up to date.[/]")


def _one_organization(db: Database, org_id: str | None) -> Organization:
    with db.unit_of_work() as session:
        stmt = select(Organization)
        if org_id:
            stmt = stmt.where(Organization.id == org_id)
        orgs = list(session.scalars(stmt.limit(2)))
    if len(orgs) != 1:
        console.print("[red]Name the organization with --org (none or several exist).[/]")
        raise typer.Exit(2)
    return orgs[0]


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Login email.")],
    role: Annotated[Role, typer.Option(help="admin, dispatcher or driver.")] = Role.admin,
    name: Annotated[str, typer.Option(help="Display name.")] = "Administrator",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    org: Annotated[str | None, typer.Option(help="Organization id.")] = None,
    new_org: Annotated[
        str | None, typer.Option(help="Create an organization of this name.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA timezone of a new organization.")] = "UTC",
) -> None:
    """Create a user (and, with --new-org, the organization it belongs to)."""
    if len(password) < 10:
        console.print("[red]The password needs at least 10 characters.[/]")
        raise typer.Exit(2)
    db = _database(Settings())
    org_id = org
    if new_org:
        with db.unit_of_work() as session:
            org_id = create_organization(session, new_org, timezone).id
    organization = _one_organization(db, org_id)
    with db.unit_of_work() as session:
        user = auth.create_user(
            session, organization.id, email=email, name=name, role=role, password=password
        )
        out.print(f"Created {role.value} {user.email} ({user.id}) in {organization.id}")


@app.command("create-merchant")
def create_merchant(
    name: Annotated[str, typer.Option(help="Merchant name.")],
    org: Annotated[str | None, typer.Option(help="Organization id.")] = None,
) -> None:
    """Create a merchant (a shipper) in the organization."""
    from lastmile.kit.ids import new_id

    db = _database(Settings())
    organization = _one_organization(db, org)
    with db.unit_of_work() as session:
        merchant = Merchant(id=new_id("mer"), organization_id=organization.id, name=name)
        session.add(merchant)
    out.print(f"Created merchant {name} ({merchant.id})")


@app.command("create-api-key")
def create_api_key(
    merchant: Annotated[str, typer.Option(help="Merchant id.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "default",
) -> None:
    """Create an API key for a merchant; the key is printed once."""
    db = _database(Settings())
    with db.unit_of_work() as session:
        found = session.get(Merchant, merchant)
        if found is None:
            console.print(f"[red]No merchant {merchant}.[/]")
            raise typer.Exit(2)
        issued = auth.create_api_key(session, found.organization_id, found.id, name)
    out.print(issued.secret)
    console.print("Store this key now: it is not shown again.")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSON file.")],
    org: Annotated[str | None, typer.Option(help="Organization id.")] = None,
    merchant: Annotated[str | None, typer.Option(help="Import as this merchant's orders.")] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Import the valid rows anyway.")] = False,
) -> None:
    """Import orders from CSV or JSON; nothing is imported if any row is invalid."""
    from lastmile.orders.importer import ImportFormatError, import_orders
    from lastmile.orders.service import OrderService
    from lastmile.services import Services

    settings = Settings()
    db = _database(settings)
    organization = _one_organization(db, org)
    fmt = "json" if file.suffix.lower() == ".json" else "csv"
    principal = Principal(
        organization_id=organization.id,
        access=Access.merchant if merchant else Access.admin,
        merchant_id=merchant,
        user_id="cli",
    )
    with console.status(f"Checking and importing {file.name}..."), db.unit_of_work() as session:
        ctx = OrderService(session, principal, Services.from_settings(settings)).intake_context()
        try:
            report = import_orders(ctx, file.read_text("utf-8-sig"), fmt, skip_invalid=skip_invalid)
        except ImportFormatError as exc:
            console.print(f"[red]Cannot read {file}: {exc}[/]")
            raise typer.Exit(2) from exc
    if report.errors:
        table = Table("line", "field", "problem", title=f"{report.invalid_rows} invalid rows")
        for e in report.errors[:50]:
            table.add_row(str(e.row), e.field, e.message)
        console.print(table)
    out.print(f"{report.imported} of {report.received} orders imported.")
    if report.errors and not skip_invalid:
        raise typer.Exit(1)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="Orders in the demo day.")] = 1500,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same city).")] = 7,
    plan_orders: Annotated[
        int, typer.Option(help="Orders (without a window) dispatched now; the rest wait.")
    ] = 300,
    vehicles: Annotated[int, typer.Option(help="Vehicles the planned orders go on.")] = 10,
    time_limit: Annotated[int, typer.Option(help="Search budget of that plan, seconds.")] = 20,
    speed: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=3.0,
            help="Simulated fleet: times real time. Fixes carry the real clock, so faster "
            "vehicles would look like GPS jumps to the ingest.",
        ),
    ] = 1.0,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server afterwards.")
    ] = True,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Seed a Porto delivery day under way now, dispatch part of it and serve it with a
    simulated fleet driving the routes (tracking links printed)."""
    from lastmile.demo import generate_city, generate_orders
    from lastmile.demo.city import TIMEZONE, live_day
    from lastmile.demo.history import seed_history
    from lastmile.demo.loader import (
        hand_route_to_login,
        issue_links,
        live_fleet,
        live_orders,
        load_city,
        plan_day,
    )
    from lastmile.kit.clock import utcnow
    from lastmile.planning.schemas import PlanRequest
    from lastmile.planning.solve import DEMO_CITY_PBF, SolveSettings
    from lastmile.services import Services

    base = Settings()
    path = (base.data_dir / "demo.sqlite").resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"http://{host}:{port}"
    # The demo plans on the real Porto road network shipped with the package.
    settings = base.model_copy(
        update={
            "database_url": f"sqlite:///{path}",
            "osm_pbf": base.osm_pbf or DEMO_CITY_PBF,
            "base_url": url,
        }
    )
    db = _database(settings)
    services = Services.from_settings(settings)
    now = utcnow()
    service_date, day_start_h = live_day(now)
    city = generate_city(service_date, seed=seed, day_start_h=day_start_h)
    city.orders = generate_orders(city, orders, seed=seed + 1, now=now)
    with _progress() as progress:
        task = progress.add_task("Seeding the demo day", total=len(city.orders))
        logins = load_city(db, services, city, progress=lambda n: progress.advance(task, n))
        task = progress.add_task("Seeding two weeks of finished days (reports)", total=None)
        history = seed_history(
            db, logins.organization_id, days=14, seed=seed,
            grid_kg_co2e_per_kwh=settings.grid_kg_co2e_per_kwh,
        )  # fmt: skip
        progress.update(task, total=1, completed=1)
        request = PlanRequest(
            service_date=service_date,
            time_limit_s=time_limit,
            seed=seed,
            vehicle_ids=live_fleet(city, logins.vehicle_ids, vehicles),
            order_ids=live_orders(city, logins.order_ids, plan_orders),
        )
        task = progress.add_task(f"Planning {plan_orders} orders", total=100)
        solve = SolveSettings(
            settings.osm_pbf, settings.data_dir / "cache", settings.planning_workers
        )
        planned = plan_day(
            db, services, solve, logins.organization_id, request,
            progress=lambda done: progress.update(task, completed=round(done * 100)),
        )  # fmt: skip
    # One route for a person in the driver app; links on the simulated others, for orders a few
    # stops ahead of where the fleet will be once the server is up.
    handover = hand_route_to_login(
        db, logins.organization_id, logins.users["driver"], after=utcnow()
    )
    links = issue_links(
        db, logins.organization_id, url, timedelta(days=settings.tracking_link_ttl_days),
        after=utcnow() + timedelta(minutes=1), skip=[handover.route_id] if handover else [],
    )  # fmt: skip
    db.dispose()
    table = Table(title=f"Lastmile demo - Porto, {city.service_date}", show_header=False)
    table.add_row("Dispatcher dashboard", f"{url}/dashboard")
    table.add_row("Driver app", f"{url}/driver")
    table.add_row("API docs", f"{url}/docs")
    for role, email in logins.users.items():
        table.add_row(f"{role} login", f"{email} / {logins.password}")
    table.add_row(
        "Seeded",
        f"{len(city.depots)} depots/hubs, {len(city.vehicles)} vehicles, "
        f"{len(city.drivers)} drivers, {len(city.pickup_points)} lockers, "
        f"{len(logins.order_ids)} orders today; {history.orders} finished orders on "
        f"{len(history.days)} past days (reports)",
    )
    table.add_row(
        "Dispatched",
        f"{planned.assigned} of {planned.orders} planned orders on {planned.routes} routes "
        f"(plan {planned.plan_id}); {len(logins.order_ids) - planned.assigned} orders wait "
        "for the dispatcher",
    )
    simulated = planned.routes - (handover is not None)
    table.add_row("Simulated fleet", f"{simulated} vehicles driving at {speed:g}x real time")
    if handover is not None:
        table.add_row(
            "Yours to drive",
            f"{handover.vehicle}: {handover.stops} stops for the driver login in /driver "
            "(the simulator leaves this route to you)",
        )
    out.print(table)
    for link in links:
        eta = link.planned_arrival.astimezone(TIMEZONE).strftime("%H:%M")
        before = f"{link.stops_before} stop{'' if link.stops_before == 1 else 's'} before"
        out.print(
            f"Tracking link (order {link.reference} on {link.vehicle}, {before} it, "
            f"planned {eta}): {link.url}",
            soft_wrap=True,
        )
    for name, key in logins.merchant_keys.items():
        out.print(f"Merchant API key ({name}): {key}", soft_wrap=True)
    if serve_after:
        import uvicorn

        from lastmile.app import create_app
        from lastmile.demo.simulate import simulate_fleet

        app = simulate_fleet(
            create_app(settings), logins.organization_id, speed=speed, seed=seed,
            leave=[handover.route_id] if handover else [],
        )  # fmt: skip
        uvicorn.run(app, host=host, port=port)


@app.command()
def plan(
    service_date: Annotated[str, typer.Option("--date", help="Day to plan (YYYY-MM-DD).")],
    time_limit: Annotated[int, typer.Option(help="Search budget in seconds.")] = 30,
    org: Annotated[str | None, typer.Option(help="Organization id.")] = None,
    commit: Annotated[bool, typer.Option(help="Commit the plan: dispatch the routes.")] = False,
    seed: Annotated[int, typer.Option(help="Search seed.")] = 1,
) -> None:
    """Optimise a day's routes, show the summary, and optionally commit them."""
    import time as _time
    from zoneinfo import ZoneInfo

    from lastmile.fleet.repository import DriverRepository, VehicleRepository
    from lastmile.kit.errors import Problem
    from lastmile.planning.models import PlanStatus
    from lastmile.planning.runner import PlanRunner
    from lastmile.planning.schemas import PlanRead, PlanRequest
    from lastmile.planning.service import PlanningService
    from lastmile.planning.solve import SolveSettings
    from lastmile.services import Services

    settings = Settings()
    db = _database(settings)
    organization = _one_organization(db, org)
    principal = Principal(organization_id=organization.id, access=Access.admin, user_id="cli")
    runner = PlanRunner(
        db, SolveSettings(settings.osm_pbf, settings.data_dir / "cache", settings.planning_workers)
    )
    services = Services.from_settings(settings)
    request = PlanRequest(
        service_date=date.fromisoformat(service_date), time_limit_s=time_limit, seed=seed
    )
    try:
        with db.unit_of_work() as session:
            plan_id = PlanningService(session, principal, services, runner).start(request).id
    except Problem as exc:
        console.print(f"[red]Cannot plan: {exc.detail}[/]")
        raise typer.Exit(2) from exc
    with _progress() as progress:
        task = progress.add_task(
            f"Planning {service_date} in {ZoneInfo(organization.timezone)}", total=100
        )
        while True:
            with db.unit_of_work(readonly=True) as session:
                read = PlanRead.model_validate(
                    PlanningService(session, principal, services, runner).get(plan_id)
                )
            progress.update(task, completed=round(read.progress * 100))
            if read.status in (PlanStatus.succeeded, PlanStatus.failed):
                break
            _time.sleep(0.5)
    runner.shutdown()
    if read.status is PlanStatus.failed or read.summary is None or read.result is None:
        console.print(f"[red]Planning failed: {read.message}[/]")
        raise typer.Exit(1)
    table = Table(
        "vehicle", "driver", "stops", "km", "hours", "cost", "kg CO2e", title=f"Plan {plan_id}"
    )
    with db.unit_of_work(readonly=True) as session:
        vehicles = {v.id: v.name for v in VehicleRepository(session, principal).all()}
        drivers = {d.id: d.name for d in DriverRepository(session, principal).all()}
    for route in read.result.routes:
        table.add_row(
            vehicles.get(route.vehicle_id, route.vehicle_id),
            drivers.get(route.driver_id or "", "-"),
            str(len(route.stops)),
            f"{route.distance_km:.1f}",
            f"{route.duration_h:.1f}",
            f"{route.cost:.2f}",
            f"{route.co2_kg:.2f}",
        )
    out.print(table)
    s = read.summary
    out.print(
        f"{s.assigned}/{s.orders} orders on {s.vehicles} vehicles, {s.distance_km:.1f} km, "
        f"{s.duration_h:.1f} h, cost {s.cost:.2f}, {s.co2_kg:.1f} kg CO2e; "
        f"{s.unassigned} unassigned"
    )
    reasons: dict[str, int] = {}
    for u in read.result.unassigned:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    if reasons:
        out.print("Unassigned by reason: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    if commit:
        with db.unit_of_work() as session:
            PlanningService(session, principal, services, runner).commit(plan_id)
        out.print(f"[green]Committed {plan_id}: routes dispatched to their drivers.[/]")


# --- custody ledger ------------------------------------------------------------------------

ledger_app = typer.Typer(
    help="The custody ledger: verify it, seal days, export roots, check receipts.",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")
LedgerDatabaseUrl = Annotated[
    str | None, typer.Option(help="Database URL (default: the configured database).")
]
LedgerOrganization = Annotated[
    str | None, typer.Option("--organization", help="Organization id (default: every one).")
]


def _ledger_settings(database_url: str | None) -> tuple[Settings, Database]:
    # No migration here: a verifier must not change the database it is checking.
    settings = Settings(database_url=database_url) if database_url else Settings()
    return settings, Database(settings.effective_database_url)


def _ledger_organizations(db: Database, organization: str | None) -> list[str]:
    from lastmile.ledger.service import ledger_organizations

    if organization:
        return [organization]
    with db.unit_of_work(readonly=True) as session:
        return ledger_organizations(session)


@ledger_app.command("verify")
def ledger_verify(
    database_url: LedgerDatabaseUrl = None,
    organization: LedgerOrganization = None,
    all_signatures: Annotated[
        bool,
        typer.Option(
            "--all-signatures",
            help="Check every entry's signature, not only the day roots' and open days' "
            "(about 15 times slower).",
        ),
    ] = False,
) -> None:
    """Check every hash, link, signature and day root; exit code 1 and a table of faults."""
    from lastmile.ledger.service import verify_ledger

    _, db = _ledger_settings(database_url)
    summary = Table("organization", "entries", "sealed days", "signatures", "result")
    faults = Table("organization", "entry", "day", "fault", "detail", title="Faults, first first")
    with console.status("Verifying the custody ledger..."):
        for org in _ledger_organizations(db, organization):
            with db.unit_of_work(readonly=True) as session:
                report = verify_ledger(
                    session, org, signatures="all" if all_signatures else "anchors"
                )
            result = "[green]ok[/]" if report.ok else f"[red]{report.faults_total} faults[/]"
            summary.add_row(
                org, str(report.entries), str(report.days_sealed),
                str(report.signatures_checked), result,
            )  # fmt: skip
            for fault in report.faults:
                faults.add_row(
                    org, "" if fault.sequence is None else str(fault.sequence), fault.day or "",
                    fault.kind.value, fault.detail,
                )  # fmt: skip
    db.dispose()
    out.print(summary)
    if faults.row_count:
        out.print(faults)
        raise typer.Exit(1)


@ledger_app.command("seal")
def ledger_seal(
    database_url: LedgerDatabaseUrl = None, organization: LedgerOrganization = None
) -> None:
    """Publish the signed roots of every closed day not sealed yet (the server does it hourly)."""
    from lastmile.ledger.service import publish_roots

    settings, db = _ledger_settings(database_url)
    sealed = 0
    for org in _ledger_organizations(db, organization):
        with db.unit_of_work() as session:
            sealed += len(publish_roots(session, org, secret_key=settings.secret_key))
    db.dispose()
    out.print(f"Sealed {sealed} ledger days.")


@ledger_app.command("export-roots")
def ledger_export_roots(
    out_file: Annotated[Path, typer.Option("--out", help="JSON lines file to write.")],
    database_url: LedgerDatabaseUrl = None,
    organization: LedgerOrganization = None,
) -> None:
    """Write every signed day root, with its public key, as JSON lines to publish elsewhere."""
    from lastmile.ledger.schemas import LedgerRootRead
    from lastmile.ledger.service import active_key, day_roots

    _, db = _ledger_settings(database_url)
    lines = []
    for org in _ledger_organizations(db, organization):
        with db.unit_of_work(readonly=True) as session:
            key = active_key(session, org)
            for root in day_roots(session, org):
                line = LedgerRootRead.of(root).model_dump(mode="json")
                line |= {"organization_id": org, "public_key": key.public_key if key else None}
                lines.append(json.dumps(line, sort_keys=True) + "\n")
    db.dispose()
    out_file.write_text("".join(lines), encoding="utf-8")
    console.print(f"Wrote {len(lines)} day roots to {out_file}.")


@ledger_app.command("verify-receipt")
def ledger_verify_receipt(
    receipt: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Receipt JSON.")],
    public_key: Annotated[
        str | None, typer.Option(help="Require this (published) public key, hex.")
    ] = None,
) -> None:
    """Check a custody receipt offline: hashes, signatures, Merkle proofs and day roots."""
    from lastmile.ledger.core.receipt import verify_receipt

    result = verify_receipt(receipt.read_bytes(), public_key=public_key)
    for problem in result.problems:
        out.print(f"[red]{problem}[/]")
    if not result.ok:
        raise typer.Exit(1)
    out.print(
        f"[green]Receipt verified[/]: {result.entries} entries, {result.sealed} in sealed days."
    )


# --- benchmarks ----------------------------------------------------------------------------


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table("figure", "value")
    for key, value in result.items():
        if not isinstance(value, list | dict):
            table.add_row(key, str(value))
    out.print(table)


@contextmanager
def _bench_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    with _progress() as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


@bench_app.command("import")
def bench_import(
    orders: Annotated[int, typer.Option(help="Orders in the generated CSV.")] = 10_000,
    http: Annotated[bool, typer.Option(help="Also time the HTTP import endpoint.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Import N generated orders from CSV into a fresh SQLite database."""
    from lastmile.bench.imports import run

    with console.status(f"Importing {orders} orders..."):
        result = run(orders=orders, http=http)
    _report(result, as_json)


# Reference data of a developer checkout; a path option overrides it.
SHARED_SOLOMON = Path("../shared/data/vrptw/solomon")


@bench_app.command("vrptw")
def bench_vrptw(
    instances: Annotated[Path, typer.Option(help="Folder of Solomon files with bks.csv.")] = (
        SHARED_SOLOMON
    ),
    time_limit: Annotated[float, typer.Option(help="Seconds per instance and solver.")] = 10.0,
    peers: Annotated[str, typer.Option(help="Comma-separated: ortools, vroom, or none.")] = (
        "ortools,vroom"
    ),
    convention: Annotated[str, typer.Option(help="dimacs (default) or real.")] = "dimacs",
    only: Annotated[str | None, typer.Option(help="Comma-separated instance names.")] = None,
    workers: Annotated[int, typer.Option(help="Cores for our planner and VROOM.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Solve Solomon VRPTW instances with our planner and its peers; gaps to best known."""
    from lastmile.bench import vrptw

    peer_list = [] if peers in ("", "none") else [p.strip() for p in peers.split(",")]
    names = [n.strip() for n in only.split(",")] if only else None
    with _bench_progress("Solving") as update:
        result = vrptw.run(
            instances,
            time_limit_s=time_limit,
            peers=peer_list,
            convention=convention,  # type: ignore[arg-type]
            workers=workers,
            instances=names,
            on_progress=lambda done, total, _label: update(done, total),
        )
    _report(result, as_json)


@bench_app.command("city")
def bench_city(
    orders: Annotated[int, typer.Option(help="Orders in the generated day.")] = 2000,
    vehicles: Annotated[int, typer.Option(help="Vehicles in the mixed fleet.")] = 60,
    time_limit: Annotated[float, typer.Option(help="Search budget in seconds.")] = 40.0,
    compare_whole: Annotated[
        bool, typer.Option(help="Also solve without decomposition, same total time.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Cores to use.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Plan a generated Porto day end to end on the road network (matrix + search)."""
    from lastmile.bench import city

    with console.status(f"Planning {orders} orders on {vehicles} vehicles..."):
        result = city.run(
            orders=orders,
            vehicles=vehicles,
            time_limit_s=time_limit,
            workers=workers,
            compare_whole=compare_whole,
        )
    _report(result, as_json)


@bench_app.command("fanout")
def bench_fanout(
    subscribers: Annotated[int, typer.Option(help="Concurrent SSE clients.")] = 1000,
    fixes: Annotated[int, typer.Option(help="Fixes posted.")] = 200,
    rate: Annotated[float, typer.Option(help="Fixes per second.")] = 20.0,
    redis_url: Annotated[
        str | None, typer.Option(help="Serve with the Redis broker at this URL.")
    ] = None,
    servers: Annotated[int, typer.Option(help="Server processes (several need Redis).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Latency from a fix accepted to its live event at every one of N SSE clients."""
    from lastmile.bench.fanout import run_fanout_bench

    with console.status(f"Fanning {fixes} fixes out to {subscribers} SSE clients..."):
        result = run_fanout_bench(
            subscribers=subscribers,
            fixes=fixes,
            rate_per_s=rate,
            redis_url=redis_url,
            servers=servers,
        )
    _report(result, as_json)


@bench_app.command("ingest")
def bench_ingest(
    vehicles: Annotated[int, typer.Option(help="Vehicles in the fleet.")] = 10_000,
    batch: Annotated[int, typer.Option(help="Fixes per request (pings 2 s apart).")] = 10,
    seconds: Annotated[
        float, typer.Option(help="Measured seconds, after a warm-up batch per vehicle.")
    ] = 20.0,
    connections: Annotated[int, typer.Option(help="Concurrent keep-alive connections.")] = 8,
    drivers: Annotated[
        bool, typer.Option(help="Each vehicle's driver reports instead of one gateway.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL server URL (a fresh schema is used).")
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option(help="Serve with Redis for live events and positions.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Fixes per second accepted through POST /v1/positions, load from another process."""
    from lastmile.bench import ingest

    with console.status("Ingest bench...") as status:
        result = ingest.run(
            database_url=database_url,
            redis_url=redis_url,
            vehicles=vehicles,
            batch=batch,
            seconds=seconds,
            connections=connections,
            drivers=drivers,
            workers=workers,
            on_progress=lambda message: status.update(f"Ingest bench: {message}..."),
        )
    _report(result, as_json)


@bench_app.command("eta")
def bench_eta(
    routes: Annotated[int, typer.Option(help="Routes in the simulated day.")] = 40,
    stops: Annotated[int, typer.Option(help="Stops per route.")] = 30,
    warm_days: Annotated[int, typer.Option(help="Days learnt from before the scored one.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """ETA windows 30 min before arrival on a simulated day, against the planned times."""
    from lastmile.bench.eta import run_eta_bench

    with console.status(f"Tracking {routes} routes of {stops} stops..."):
        result = run_eta_bench(routes=routes, stops_per_route=stops, seed=seed, warm_days=warm_days)
    _report(result, as_json)


@bench_app.command("slots")
def bench_slots(
    routes: Annotated[int, typer.Option(help="Committed routes on the planned day.")] = 60,
    stops: Annotated[int, typer.Option(help="Stops (orders) per route.")] = 34,
    quotes: Annotated[int, typer.Option(help="Quotes timed through the HTTP endpoint.")] = 200,
    cold_quotes: Annotated[
        int,
        typer.Option(help="Quotes timed right after an order of the day changed."),
    ] = 40,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Slot quote latency for random addresses on a day of ~2,000 orders on committed routes."""
    from lastmile.bench.slots import run as run_slots_bench

    with console.status(f"Quoting slots against {routes} routes of {stops} stops..."):
        result = run_slots_bench(
            routes=routes, stops=stops, quotes=quotes, cold_quotes=cold_quotes, seed_value=seed
        )
    _report(result, as_json)


@bench_app.command("ledger")
def bench_ledger(
    appends: Annotated[int, typer.Option(help="Appends timed through the service.")] = 2_000,
    batch: Annotated[int, typer.Option(help="Appends per commit in the batched run.")] = 100,
    entries: Annotated[
        int, typer.Option(help="Entries in the verified chain (times scale to a million).")
    ] = 200_000,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL server URL (a fresh schema is used).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Custody appends per second, and the time to verify a million ledger entries."""
    from lastmile.bench.ledger import run as run_ledger_bench

    with console.status("Ledger bench...") as status:
        result = run_ledger_bench(
            appends=appends,
            batch=batch,
            entries=entries,
            database_url=database_url,
            on_progress=lambda message: status.update(f"Ledger bench: {message}..."),
        )
    _report(result, as_json)


def main() -> None:  # pragma: no cover - console entry point
    app()
