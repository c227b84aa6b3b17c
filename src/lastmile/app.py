"""The HTTP application: ``create_app(settings)`` wires middleware, routers and lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lastmile import __version__
from lastmile.auth.endpoints import router as auth_router
from lastmile.chat.endpoints import router as chat_router
from lastmile.chat.tasks import chat_retention_job
from lastmile.config import Settings
from lastmile.customers.endpoints import router as customers_router
from lastmile.dashboard.page import router as dashboard_page_router
from lastmile.db.engine import Database
from lastmile.db.migrate import upgrade
from lastmile.dispatch.endpoints import router as dispatch_router
from lastmile.driver.endpoints import router as driver_router
from lastmile.driver.live import router as driver_live_router
from lastmile.driver.page import router as driver_page_router
from lastmile.driver.proof_endpoints import router as proof_router
from lastmile.feedback.endpoints import router as feedback_router
from lastmile.fleet.endpoints import router as fleet_router
from lastmile.idempotency.middleware import IdempotencyMiddleware
from lastmile.kit.errors import install_error_handlers
from lastmile.ledger.endpoints import router as ledger_router
from lastmile.ledger.tasks import sealing_job
from lastmile.notifications.endpoints import router as notifications_router
from lastmile.notifications.retention import notification_retention_job
from lastmile.notifications.worker import notification_job
from lastmile.orders.endpoints import router as orders_router
from lastmile.organizations.endpoints import router as organizations_router
from lastmile.planning.endpoints import router as planning_router
from lastmile.planning.runner import PlanRunner, fail_interrupted_plans
from lastmile.planning.solve import SolveSettings
from lastmile.reports.endpoints import router as reports_router
from lastmile.reports.page import router as reports_page_router
from lastmile.selfservice.endpoints import router as self_service_router
from lastmile.services import Services
from lastmile.slots.endpoints import router as slots_router
from lastmile.tracking.endpoints import router as tracking_router
from lastmile.tracking.live_endpoints import router as live_router
from lastmile.tracking.page import router as tracking_page_router
from lastmile.tracking.runtime import TrackingRuntime
from lastmile.web import install_web

log = logging.getLogger(__name__)

DESCRIPTION = """\
The Lastmile API: orders, fleet and customers for last-mile delivery.

Authenticate with `Authorization: Bearer <token>`: an access token from `POST /v1/auth/token`
(admins, dispatchers, drivers) or a merchant API key. Errors are RFC 9457 problem details
(`application/problem+json`) naming the field at fault. Send an `Idempotency-Key` header with
any POST to make retries safe.
"""


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the application. ``database`` lets tests share one engine with their fixtures."""
    settings = settings or Settings()
    db = database or Database(settings.effective_database_url)

    runner = PlanRunner(
        db,
        SolveSettings(settings.osm_pbf, settings.data_dir / "cache", settings.planning_workers),
        in_process=settings.planning_in_process,
    )

    services = Services.from_settings(settings)
    tracking = TrackingRuntime.build(settings, db, services)
    chat_retention = chat_retention_job(settings, db)
    ledger_sealing = sealing_job(settings, db)
    notifier = notification_job(settings, db)
    notification_retention = notification_retention_job(settings, db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate and database is None:
            upgrade(db.url)
        fail_interrupted_plans(db)
        await tracking.start()
        chat_retention.start()
        notification_retention.start()
        ledger_sealing.start()
        if notifier is not None:
            notifier.start()
        yield
        if notifier is not None:
            notifier.stop()
        ledger_sealing.stop()
        notification_retention.stop()
        chat_retention.stop()
        await tracking.stop()
        runner.shutdown()
        if database is None:
            db.dispose()

    app = FastAPI(
        title="Lastmile",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.services = services
    app.state.plan_runner = runner
    app.state.tracking = tracking
    install_error_handlers(app)
    install_web(app)
    app.add_middleware(
        IdempotencyMiddleware,
        database=lambda: db,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )
    for router in (
        auth_router,
        organizations_router,
        fleet_router,
        customers_router,
        orders_router,
        planning_router,
        # Before tracking: its /v1/routes/{id}/stops/{id}/{what} would take .../move.
        dispatch_router,
        slots_router,
        tracking_router,
        live_router,
        tracking_page_router,
        self_service_router,
        chat_router,
        feedback_router,
        ledger_router,
        notifications_router,
        driver_router,
        driver_live_router,
        proof_router,
        driver_page_router,
        dashboard_page_router,
        reports_router,
        reports_page_router,
    ):
        app.include_router(router)

    @app.get("/healthz", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["meta"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus metrics (e.g. `lastmile_position_fixes_total` by source and outcome)."""
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
