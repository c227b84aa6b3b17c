from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.auth.models import AccessToken, ApiKey, User
from lastmile.db.repository import TenantRepository
from lastmile.fleet.models import Driver
from lastmile.organizations.models import Merchant


class UserRepository(TenantRepository[User]):
    model = User


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey


# Lookups by credential happen before any tenant is known, so they are the only unscoped reads.
def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.lower())).first()


def find_access_token(session: Session, token_hash: str) -> tuple[AccessToken, User] | None:
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == token_hash)
    ).first()
    return (row[0], row[1]) if row else None


def find_api_key(session: Session, prefix: str) -> ApiKey | None:
    """The key with this prefix; a deactivated merchant's keys are not found."""
    stmt = (
        select(ApiKey)
        .join(Merchant, Merchant.id == ApiKey.merchant_id)
        .where(ApiKey.prefix == prefix, Merchant.active.is_(True))
    )
    return session.scalars(stmt).first()


def driver_id_for_user(session: Session, user: User) -> str | None:
    return session.scalars(
        select(Driver.id).where(
            Driver.organization_id == user.organization_id, Driver.user_id == user.id
        )
    ).first()
