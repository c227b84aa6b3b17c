"""FastAPI dependencies shared by every domain's endpoints: settings, unit of work, caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.auth.service import authenticate
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.errors import Forbidden, Unauthorized
from lastmile.services import Services


# Dependencies that only read app state are `async def`: FastAPI runs every sync dependency
# in the threadpool, a hop (and a wait for a free thread) each, on every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(
    request: Request, db: Annotated[Database, Depends(get_database)]
) -> Iterator[Session]:
    """The request's unit of work: committed after the endpoint returns, before the response."""
    with db.unit_of_work(readonly=request.method in READ_METHODS) as session:
        yield session


def get_write_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A writing unit of work whatever the method (protocols that report with GET)."""
    with db.unit_of_work() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]

bearer_scheme = HTTPBearer(
    auto_error=False, description="Access token (users) or API key (merchants)."
)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Merchant API key.")


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
ApiKeyDep = Annotated[str | None, Depends(_api_key)]


def _credential(bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> str:
    credential = bearer.credentials if bearer else api_key
    if not credential:
        raise Unauthorized(
            "Send an access token or API key as 'Authorization: Bearer ...'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credential


async def credential_given(bearer: BearerDep, api_key: ApiKeyDep) -> None:
    """401 before anything else (body validation included) when no credential is sent."""
    _credential(bearer, api_key)


def caller(
    session: Session, bearer: HTTPAuthorizationCredentials | None, api_key: str | None
) -> Principal:
    """Authenticate the request's credential inside ``session``."""
    return authenticate(session, _credential(bearer, api_key))


def allow(principal: Principal, allowed: frozenset[Access]) -> Principal:
    if principal.access not in allowed:
        raise Forbidden(f"This needs one of: {', '.join(sorted(allowed))}.")
    return principal


def get_principal(session: SessionDep, bearer: BearerDep, api_key: ApiKeyDep) -> Principal:
    return caller(session, bearer, api_key)


def require(*allowed: Access) -> Callable[..., Awaitable[Principal]]:
    """Dependency that admits only callers with one of the ``allowed`` kinds of access."""
    allowed_set = frozenset(allowed)

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return allow(principal, allowed_set)

    return check
