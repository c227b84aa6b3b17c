from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lastmile.ledger.core.chain import ChainReport, FaultKind, SignatureMode
from lastmile.ledger.models import LedgerRoot, OrganizationKey
from lastmile.ledger.service import signed_root


class LedgerRootRead(BaseModel):
    """A sealed day. `signature` is the organization's Ed25519 signature of the canonical JSON
    (sorted keys, no whitespace, UTF-8) of `statement`; publish these to make the ledger's
    history impossible to rewrite unnoticed."""

    id: str
    day: date
    entry_count: int
    first_sequence: int
    last_sequence: int
    root: str = Field(description="Merkle root of the day's entry hashes, hex.")
    signature: str = Field(description="Ed25519 signature of `statement`, hex.")
    statement: dict[str, Any] = Field(description="Exactly what was signed.")
    published_at: datetime

    @classmethod
    def of(cls, row: LedgerRoot) -> LedgerRootRead:
        return cls(
            id=row.id,
            day=row.day,
            entry_count=row.entry_count,
            first_sequence=row.first_sequence,
            last_sequence=row.last_sequence,
            root=row.root_hash,
            signature=row.signature,
            statement=signed_root(row).root.statement(),
            published_at=row.published_at,
        )


class PublicKeyRead(BaseModel):
    organization_id: str
    algorithm: Literal["ed25519"] = "ed25519"
    public_key: str = Field(description="Raw 32-byte Ed25519 public key, hex.")
    created_at: datetime

    @classmethod
    def of(cls, row: OrganizationKey) -> PublicKeyRead:
        return cls(
            organization_id=row.organization_id,
            public_key=row.public_key,
            created_at=row.created_at,
        )


class PublishRoots(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to_day: date | None = Field(
        default=None, description="Seal closed days up to this one (default: yesterday, UTC)."
    )


class PublishedRoots(BaseModel):
    published: list[LedgerRootRead]


class FaultRead(BaseModel):
    kind: FaultKind
    sequence: int | None = Field(description="The entry at fault (a day's first entry).")
    day: str | None
    detail: str


class VerifyReport(BaseModel):
    ok: bool
    signatures: SignatureMode = Field(description="Which signatures were checked.")
    entries: int
    days_sealed: int
    signatures_checked: int
    faults_total: int
    faults: list[FaultRead] = Field(description="In chain order, the first first (capped).")

    @classmethod
    def of(cls, report: ChainReport, signatures: SignatureMode) -> VerifyReport:
        return cls(
            ok=report.ok,
            signatures=signatures,
            entries=report.entries,
            days_sealed=report.days_sealed,
            signatures_checked=report.signatures_checked,
            faults_total=report.faults_total,
            faults=[
                FaultRead(kind=f.kind, sequence=f.sequence, day=f.day, detail=f.detail)
                for f in report.faults
            ],
        )


class ReceiptProof(BaseModel):
    day: str
    index: int = Field(description="The entry's leaf position in its day's tree.")
    path: list[tuple[Literal["left", "right"], str]] = Field(
        description="Sibling hashes from the leaf up, with the side each sits on."
    )


class ReceiptEntry(BaseModel):
    entry: dict[str, Any] = Field(description="The hashed statement: canonical JSON of it.")
    entry_hash: str
    signature: str = Field(description="Ed25519 signature of the 32 bytes of `entry_hash`.")
    sealed: bool = Field(description="False while the entry's day is still open.")
    proof: ReceiptProof | None


class ReceiptRoot(BaseModel):
    statement: dict[str, Any]
    signature: str


class Receipt(BaseModel):
    """A self-contained custody receipt (see docs/ledger.md for the offline check)."""

    format: Literal["lastmile.custody-receipt/1"]
    organization_id: str
    order_id: str
    issued_at: datetime
    public_key: str | None
    entries: list[ReceiptEntry]
    roots: dict[str, ReceiptRoot]
