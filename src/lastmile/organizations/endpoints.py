"""HTTP routes for the caller's organization and its merchants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.crud import Resource, crud_router
from lastmile.deps import SessionDep, require
from lastmile.organizations import schemas as s
from lastmile.organizations import service
from lastmile.organizations.repository import MerchantRepository, get_organization

router = APIRouter(tags=["organization"])

MERCHANTS = Resource(
    path="/v1/merchants",
    noun="merchant",
    id_prefix="mer",
    repository=MerchantRepository,
    create_schema=s.MerchantCreate,
    update_schema=s.MerchantUpdate,
    read_schema=s.MerchantRead,
    read_access=STAFF,
    write_access=(Access.admin,),
)
router.include_router(crud_router(MERCHANTS, tags=["organization"]))


@router.get("/v1/organization", response_model=s.OrganizationRead)
def read_organization(
    session: SessionDep, principal: Annotated[Principal, Depends(require(*STAFF))]
) -> s.OrganizationRead:
    """The caller's organization."""
    return s.OrganizationRead.model_validate(get_organization(session, principal.organization_id))


@router.patch("/v1/organization", response_model=s.OrganizationRead)
def update_organization(
    patch: s.OrganizationUpdate,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Access.admin))],
) -> s.OrganizationRead:
    """Rename the organization or change its timezone (admins only)."""
    org = service.update_organization(session, principal.organization_id, patch)
    return s.OrganizationRead.model_validate(org)
