"""Login, access tokens and API keys."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from lastmile.auth import repository as repo
from lastmile.auth.models import AccessToken, ApiKey, Role, User
from lastmile.auth.principal import Access, Principal
from lastmile.auth.schemas import UserUpdate
from lastmile.db.engine import is_readonly
from lastmile.kit.clock import utcnow
from lastmile.kit.crypto import (
    DUMMY_PASSWORD_HASH,
    hash_password,
    random_token,
    sha256_hex,
    verify_password,
)
from lastmile.kit.errors import Conflict, NotFound, Unauthorized
from lastmile.kit.ids import new_id
from lastmile.organizations.repository import MerchantRepository

ACCESS_TOKEN_PREFIX = "lmt_"  # noqa: S105 - a marker, not a secret
API_KEY_PREFIX = "lmk_"
# Touching last_used_at on every call would turn each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedApiKey:
    key: ApiKey
    secret: str


def create_user(
    session: Session, organization_id: str, *, email: str, name: str, role: Role, password: str
) -> User:
    email = email.strip().lower()
    if repo.find_user_by_email(session, email) is not None:
        raise Conflict("A user with this email already exists.")
    user = User(
        id=new_id("usr"),
        organization_id=organization_id,
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, principal: Principal, user_id: str, patch: UserUpdate) -> User:
    user = get_user(session, principal, user_id)
    values = patch.model_dump(exclude_unset=True, exclude_none=True)
    if "password" in values:
        user.password_hash = hash_password(values.pop("password"))
    for name, value in values.items():
        setattr(user, name, value)
    session.flush()
    return user


def get_user(session: Session, principal: Principal, user_id: str) -> User:
    user = repo.UserRepository(session, principal).get(user_id)
    if user is None:
        raise NotFound(f"No user {user_id!r}.")
    return user


def ensure_merchant(session: Session, principal: Principal, merchant_id: str) -> None:
    if MerchantRepository(session, principal).get(merchant_id) is None:
        raise NotFound(f"No merchant {merchant_id!r}.")


def revoke_api_key(session: Session, principal: Principal, key_id: str) -> ApiKey:
    key = repo.ApiKeyRepository(session, principal).get(key_id)
    if key is None:
        raise NotFound(f"No API key {key_id!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def login(session: Session, email: str, password: str, ttl: timedelta) -> IssuedToken:
    """Check a password and issue an access token; both failure cases take the same time."""
    user = repo.find_user_by_email(session, email.strip())
    valid = verify_password(password, user.password_hash if user else DUMMY_PASSWORD_HASH)
    if user is None or not valid or not user.active:
        raise Unauthorized("Wrong email or password.")
    return issue_access_token(session, user, ttl)


def issue_access_token(session: Session, user: User, ttl: timedelta) -> IssuedToken:
    raw = ACCESS_TOKEN_PREFIX + random_token(32)
    expires_at = utcnow() + ttl
    session.add(
        AccessToken(
            id=new_id("tok"),
            organization_id=user.organization_id,
            user_id=user.id,
            token_hash=sha256_hex(raw),
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedToken(token=raw, expires_at=expires_at)


def revoke_access_token(session: Session, raw: str) -> None:
    found = repo.find_access_token(session, sha256_hex(raw))
    if found is not None:
        found[0].revoked_at = utcnow()
        session.flush()


def create_api_key(
    session: Session, organization_id: str, merchant_id: str, name: str
) -> IssuedApiKey:
    """Create a key; its secret is returned here once and only its hash is kept."""
    prefix = random_token(9)[:12].replace("_", "x").replace("-", "x")
    secret = random_token(32)
    key = ApiKey(
        id=new_id("key"),
        organization_id=organization_id,
        merchant_id=merchant_id,
        name=name,
        prefix=prefix,
        secret_hash=sha256_hex(secret),
    )
    session.add(key)
    session.flush()
    return IssuedApiKey(key=key, secret=f"{API_KEY_PREFIX}{prefix}_{secret}")


def authenticate(session: Session, credential: str) -> Principal:
    """Resolve an access token or API key to the caller it belongs to."""
    if credential.startswith(API_KEY_PREFIX):
        return _authenticate_api_key(session, credential)
    if credential.startswith(ACCESS_TOKEN_PREFIX):
        return _authenticate_access_token(session, credential)
    raise Unauthorized("Unknown credential.")


def _authenticate_access_token(session: Session, raw: str) -> Principal:
    found = repo.find_access_token(session, sha256_hex(raw))
    if found is None:
        raise Unauthorized("Unknown or expired access token.")
    token, user = found
    if token.revoked_at is not None or token.expires_at <= utcnow() or not user.active:
        raise Unauthorized("Unknown or expired access token.")
    driver_id = repo.driver_id_for_user(session, user) if user.role is Role.driver else None
    return Principal(
        organization_id=user.organization_id,
        access=Access(user.role.value),
        user_id=user.id,
        driver_id=driver_id,
    )


def _authenticate_api_key(session: Session, raw: str) -> Principal:
    prefix, _, secret = raw.removeprefix(API_KEY_PREFIX).partition("_")
    key = repo.find_api_key(session, prefix) if prefix and secret else None
    # Compare against a hash even when the prefix is unknown, so timing says nothing.
    expected = key.secret_hash if key else sha256_hex("")
    if not hmac.compare_digest(expected, sha256_hex(secret)) or key is None:
        raise Unauthorized("Unknown or revoked API key.")
    if key.revoked_at is not None:
        raise Unauthorized("Unknown or revoked API key.")
    now = utcnow()
    stale = key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION
    if stale and not is_readonly(session):
        key.last_used_at = now
    return Principal(
        organization_id=key.organization_id, access=Access.merchant, merchant_id=key.merchant_id
    )
