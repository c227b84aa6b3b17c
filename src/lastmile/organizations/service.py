from __future__ import annotations

from sqlalchemy.orm import Session

from lastmile.kit.ids import new_id
from lastmile.organizations.models import Organization
from lastmile.organizations.repository import get_organization
from lastmile.organizations.schemas import OrganizationUpdate


def create_organization(session: Session, name: str, timezone: str = "UTC") -> Organization:
    org = Organization(id=new_id("org"), name=name, timezone=timezone)
    session.add(org)
    session.flush()
    return org


def update_organization(
    session: Session, organization_id: str, patch: OrganizationUpdate
) -> Organization:
    org = get_organization(session, organization_id)
    for name, value in patch.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(org, name, value)
    session.flush()
    return org
