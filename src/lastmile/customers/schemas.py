from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from lastmile.kit.geo import Latitude, Longitude

Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()./-]{4,24}$", examples=["+351912345678"])]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", examples=["pt", "en-GB"])]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["PT"])]


class Channel(enum.StrEnum):
    sms = "sms"
    email = "email"
    push = "push"


class CustomerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: Phone | None = None
    email: EmailStr | None = None
    language: Language = "en"
    channels: list[Channel] = Field(
        default_factory=list, max_length=3, description="Preferred channels, most preferred first."
    )

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, channels: list[Channel]) -> list[Channel]:
        if len(set(channels)) != len(channels):
            raise ValueError("channels must not repeat")
        return channels


class CustomerUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: Phone | None = None
    email: EmailStr | None = None
    language: Language | None = None
    channels: list[Channel] | None = Field(default=None, max_length=3)


class CustomerRead(CustomerCreate):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime


class AddressFields(BaseModel):
    """A postal address; coordinates are looked up by the geocoder when left out."""

    line1: str = Field(min_length=1, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    postcode: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=120)
    country: Country
    lat: Latitude | None = None
    lon: Longitude | None = None
    access_notes: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _both_coordinates_or_neither(self) -> AddressFields:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither to geocode the address")
        return self


class AddressCreate(AddressFields):
    customer_id: str | None = None


class AddressUpdate(BaseModel):
    line1: str | None = Field(default=None, min_length=1, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    postcode: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=120)
    country: Country | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    access_notes: str | None = Field(default=None, max_length=1000)


class AddressRead(AddressCreate):
    model_config = ConfigDict(from_attributes=True)

    id: str
    lat: float
    lon: float
    created_at: datetime
