"""HTTP routes: merchants' webhook endpoints, and the staff's view of notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.db.engine import Database
from lastmile.deps import (
    ApiKeyDep,
    BearerDep,
    SessionDep,
    SettingsDep,
    allow,
    caller,
    credential_given,
    get_database,
    require,
)
from lastmile.kit.clock import utcnow
from lastmile.kit.pagination import Cursor, Limit, Page
from lastmile.notifications.channels import HttpWebhookSender
from lastmile.notifications.models import DeliveryState
from lastmile.notifications.schemas import (
    DeliveryRead,
    NotificationEventRead,
    NotificationRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookTestResult,
)
from lastmile.notifications.service import (
    EventWithDeliveries,
    NotificationService,
    WebhookEndpointService,
    send_test,
)

webhooks = APIRouter(tags=["webhooks"])
notifications = APIRouter(tags=["notifications"])
Staff = Annotated[Principal, Depends(require(*STAFF))]
Merchant = Annotated[Principal, Depends(require(Access.merchant))]
Reader = Annotated[Principal, Depends(require(*STAFF, Access.merchant))]
READERS = frozenset({*STAFF, Access.merchant})


@webhooks.post(
    "/v1/webhook-endpoints",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointCreated,
)
def create_webhook_endpoint(
    payload: WebhookEndpointCreate,
    session: SessionDep,
    principal: Merchant,
    settings: SettingsDep,
    response: Response,
) -> WebhookEndpointCreated:
    """Register a URL for signed event callbacks (merchant API key). The signing secret is in
    this answer only; every request carries `Lastmile-Signature: t=<unix>,v1=<hex>`, the
    HMAC-SHA256 of `<t>.<body>` under that secret (recipe in docs/notifications.md)."""
    endpoint, secret = WebhookEndpointService(session, principal, settings).create(payload)
    response.headers["Cache-Control"] = "no-store"
    return WebhookEndpointCreated(
        **WebhookEndpointRead.model_validate(endpoint).model_dump(), secret=secret
    )


@webhooks.get("/v1/webhook-endpoints", response_model=Page[WebhookEndpointRead])
def list_webhook_endpoints(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[WebhookEndpointRead]:
    """A merchant's endpoints; staff see every merchant's."""
    paged = WebhookEndpointService(session, principal, settings).page(cursor=cursor, limit=limit)
    return Page[WebhookEndpointRead].build(paged, WebhookEndpointRead.model_validate)


@webhooks.get("/v1/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointRead)
def read_webhook_endpoint(
    endpoint_id: str, session: SessionDep, principal: Reader, settings: SettingsDep
) -> WebhookEndpointRead:
    endpoint = WebhookEndpointService(session, principal, settings).get(endpoint_id)
    return WebhookEndpointRead.model_validate(endpoint)


@webhooks.patch("/v1/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointRead)
def update_webhook_endpoint(
    endpoint_id: str,
    patch: WebhookEndpointUpdate,
    session: SessionDep,
    principal: Merchant,
    settings: SettingsDep,
) -> WebhookEndpointRead:
    """Change the URL, description, event filter or switch the endpoint off (`active`)."""
    endpoint = WebhookEndpointService(session, principal, settings).update(endpoint_id, patch)
    return WebhookEndpointRead.model_validate(endpoint)


@webhooks.delete(
    "/v1/webhook-endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_webhook_endpoint(
    endpoint_id: str, session: SessionDep, principal: Merchant, settings: SettingsDep
) -> Response:
    """Remove the endpoint; messages still queued for it go to the dead-letter list."""
    WebhookEndpointService(session, principal, settings).delete(endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhooks.post(
    "/v1/webhook-endpoints/{endpoint_id}/test",
    response_model=WebhookTestResult,
    dependencies=[Depends(credential_given)],
)
def test_webhook_endpoint(
    endpoint_id: str,
    db: Annotated[Database, Depends(get_database)],
    bearer: BearerDep,
    api_key: ApiKeyDep,
    settings: SettingsDep,
) -> WebhookTestResult:
    """Send a signed `ping` event to the endpoint now and report how it answered."""
    # The call goes out after a read-only unit of work: a slow receiver must not hold a
    # transaction (on SQLite, the write lock) open.
    with db.unit_of_work(readonly=True) as session:
        principal = allow(caller(session, bearer, api_key), READERS)
        target = WebhookEndpointService(session, principal, settings).target(endpoint_id)
    sender = HttpWebhookSender(settings.webhook_timeout_s, settings.webhook_allow_private_urls)
    return send_test(target, sender, utcnow())


def _notification(item: EventWithDeliveries) -> NotificationRead:
    return NotificationRead(
        **NotificationEventRead.model_validate(item.event).model_dump(),
        deliveries=[DeliveryRead.model_validate(d) for d in item.deliveries],
    )


@notifications.get("/v1/notifications", response_model=Page[NotificationRead])
def list_notifications(
    session: SessionDep,
    principal: Staff,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    status: DeliveryState | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[NotificationRead]:
    """Events about orders (oldest first) and the messages each became: what was sent, what
    waits (quiet hours, backoff) and what is dead."""
    paged = NotificationService(session, principal).find(
        order_id=order_id, status=status, cursor=cursor, limit=limit
    )
    return Page[NotificationRead].build(paged, _notification)


@notifications.get("/v1/notifications/dead-letters", response_model=Page[DeliveryRead])
def list_dead_letters(
    session: SessionDep, principal: Staff, cursor: Cursor = None, limit: Limit = 50
) -> Page[DeliveryRead]:
    """Messages given up on after their last attempt (or refused for good), with the last
    error; `POST /v1/notifications/{id}/retry` sends one again."""
    paged = NotificationService(session, principal).dead_letters(cursor=cursor, limit=limit)
    return Page[DeliveryRead].build(paged, DeliveryRead.model_validate)


@notifications.post(
    "/v1/notifications/{notification_id}/retry",
    response_model=NotificationRead,
)
def retry_notification(
    notification_id: str, session: SessionDep, principal: Staff
) -> NotificationRead:
    """Queue a dead or waiting message (`ntf_...`) or event (`nev_...`) to go now, with its
    attempts reset and the same idempotency key."""
    return _notification(NotificationService(session, principal).retry(notification_id))


router = APIRouter()
router.include_router(webhooks)
router.include_router(notifications)
