"""HTTP routes for logging in, users and merchant API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lastmile.auth import schemas as s
from lastmile.auth import service
from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.auth.repository import ApiKeyRepository, UserRepository
from lastmile.deps import SessionDep, SettingsDep, get_principal, require
from lastmile.kit.pagination import Cursor, Limit, Page

router = APIRouter(tags=["auth"])
Admin = Annotated[Principal, Depends(require(Access.admin))]
Staff = Annotated[Principal, Depends(require(*STAFF))]


@router.post("/v1/auth/token", response_model=s.TokenResponse)
def login(payload: s.LoginRequest, session: SessionDep, settings: SettingsDep) -> s.TokenResponse:
    """Exchange email and password for a bearer access token."""
    ttl = timedelta(hours=settings.access_token_ttl_hours)
    issued = service.login(session, payload.email, payload.password, ttl)
    return s.TokenResponse(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep,
    _: Annotated[Principal, Depends(get_principal)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> Response:
    """Revoke the access token this request was made with."""
    if bearer is not None:
        service.revoke_access_token(session, bearer.credentials)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/me", response_model=s.Me)
def me(principal: Annotated[Principal, Depends(get_principal)]) -> s.Me:
    """Who the credential belongs to and what it may do."""
    return s.Me(
        organization_id=principal.organization_id,
        access=principal.access,
        user_id=principal.user_id,
        merchant_id=principal.merchant_id,
        driver_id=principal.driver_id,
    )


@router.post("/v1/users", status_code=status.HTTP_201_CREATED, response_model=s.UserRead)
def create_user(payload: s.UserCreate, session: SessionDep, principal: Admin) -> s.UserRead:
    """Create an admin, dispatcher or driver login."""
    user = service.create_user(
        session,
        principal.organization_id,
        email=payload.email,
        name=payload.name,
        role=payload.role,
        password=payload.password,
    )
    return s.UserRead.model_validate(user)


@router.get("/v1/users", response_model=Page[s.UserRead])
def list_users(
    session: SessionDep, principal: Staff, cursor: Cursor = None, limit: Limit = 50
) -> Page[s.UserRead]:
    """Users of the organization."""
    repo = UserRepository(session, principal)
    return Page[s.UserRead].build(
        repo.page(repo.scoped(), cursor=cursor, limit=limit), s.UserRead.model_validate
    )


@router.get("/v1/users/{user_id}", response_model=s.UserRead)
def read_user(user_id: str, session: SessionDep, principal: Staff) -> s.UserRead:
    return s.UserRead.model_validate(service.get_user(session, principal, user_id))


@router.patch("/v1/users/{user_id}", response_model=s.UserRead)
def update_user(
    user_id: str, patch: s.UserUpdate, session: SessionDep, principal: Admin
) -> s.UserRead:
    """Rename, change role, (de)activate or reset the password of a user."""
    return s.UserRead.model_validate(service.update_user(session, principal, user_id, patch))


@router.post(
    "/v1/merchants/{merchant_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=s.ApiKeyCreated,
    tags=["organization"],
)
def create_api_key(
    merchant_id: str,
    payload: s.ApiKeyCreate,
    session: SessionDep,
    principal: Admin,
    response: Response,
) -> s.ApiKeyCreated:
    """Create an API key for a merchant. The key is in this response only; store it safely.

    Retrying with the same `Idempotency-Key` answers 409: the secret is never stored.
    """
    response.headers["Cache-Control"] = "no-store"
    service.ensure_merchant(session, principal, merchant_id)
    issued = service.create_api_key(session, principal.organization_id, merchant_id, payload.name)
    return s.ApiKeyCreated(
        **s.ApiKeyRead.model_validate(issued.key).model_dump(), key=issued.secret
    )


@router.get(
    "/v1/merchants/{merchant_id}/api-keys",
    response_model=Page[s.ApiKeyRead],
    tags=["organization"],
)
def list_api_keys(
    merchant_id: str,
    session: SessionDep,
    principal: Admin,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[s.ApiKeyRead]:
    """A merchant's API keys (never their secrets)."""
    service.ensure_merchant(session, principal, merchant_id)
    repo = ApiKeyRepository(session, principal)
    stmt = repo.scoped().where(repo.model.merchant_id == merchant_id)
    return Page[s.ApiKeyRead].build(
        repo.page(stmt, cursor=cursor, limit=limit), s.ApiKeyRead.model_validate
    )


@router.delete("/v1/api-keys/{key_id}", response_model=s.ApiKeyRead, tags=["organization"])
def revoke_api_key(key_id: str, session: SessionDep, principal: Admin) -> s.ApiKeyRead:
    """Revoke an API key at once; calls made with it fail from now on."""
    return s.ApiKeyRead.model_validate(service.revoke_api_key(session, principal, key_id))
