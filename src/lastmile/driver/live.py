"""The driver app's live stream: what happens to the orders on the driver's routes today."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import Database
from lastmile.deps import SettingsDep, get_database
from lastmile.driver.today import TodayService
from lastmile.live.channels import order_channel
from lastmile.live.sse import LiveStreamResponse, sse_response
from lastmile.tracking.live_endpoints import Tracking, stream_caller

router = APIRouter(tags=["driver"])


@router.get("/v1/live/driver", response_class=LiveStreamResponse)
async def live_driver(
    principal: Annotated[Principal, Depends(stream_caller(Access.driver))],
    db: Annotated[Database, Depends(get_database)],
    settings: SettingsDep,
    runtime: Tracking,
) -> LiveStreamResponse:
    """Server-Sent Events for the driver app (`?access_token=` for EventSource): the customer's
    changes (`order_changed`), chat `message`s and `status` moves of every order on the
    driver's routes today, as the customer's own stream carries them. The set of orders is
    fixed when the stream opens: the app reconnects after its route changed."""

    def order_ids() -> list[str]:
        with db.unit_of_work(readonly=True) as session:
            return TodayService(session, principal, settings).order_ids()

    channels = [order_channel(order_id) for order_id in await run_in_threadpool(order_ids)]
    return sse_response(runtime.broker.subscribe(*channels))
