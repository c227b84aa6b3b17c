from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field


def _known_timezone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"unknown IANA timezone {value!r}")
    return value


Timezone = Annotated[str, AfterValidator(_known_timezone), Field(examples=["Europe/Lisbon"])]


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    timezone: str
    created_at: datetime


class OrganizationUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: Timezone | None = None


class MerchantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    contact_email: EmailStr | None = None
    active: bool = True
    allow_signature_request: bool = Field(
        default=True, description="Customers may ask for a signature on delivery."
    )
    allow_in_home: bool = Field(
        default=False, description="Customers may ask for in-home delivery."
    )


class MerchantUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact_email: EmailStr | None = None
    active: bool | None = None
    allow_signature_request: bool | None = None
    allow_in_home: bool | None = None


class MerchantRead(MerchantCreate):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    updated_at: datetime
