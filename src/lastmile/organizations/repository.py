from __future__ import annotations

from sqlalchemy.orm import Session

from lastmile.db.repository import TenantRepository
from lastmile.organizations.models import Merchant, Organization


class MerchantRepository(TenantRepository[Merchant]):
    model = Merchant


def get_organization(session: Session, organization_id: str) -> Organization:
    org = session.get(Organization, organization_id)
    assert org is not None, "a principal always belongs to an existing organization"
    return org
