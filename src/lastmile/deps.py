"""FastAPI dependencies shared by every domain's endpoints: settings, unit of work, caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_database(request: Request) -> Database:
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


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    credential = bearer.credentials if bearer else api_key
    if not credential:
        raise Unauthorized(
            "Send an access token or API key as 'Authorization: Bearer ...'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return authenticate(session, credential)


def require(*allowed: Access) -> Callable[..., Principal]:
    """Dependency that admits only callers with one of the ``allowed`` kinds of access."""
    allowed_set = frozenset(allowed)

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.access not in allowed_set:
            raise Forbidden(f"This needs one of: {', '.join(sorted(allowed_set))}.")
        return principal

    return check
