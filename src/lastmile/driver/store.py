"""Where proof photos and signatures are kept: content-addressed, once per organization."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lastmile.db.repository import TenantRepository, TenantScope
from lastmile.driver.models import ProofFile
from lastmile.kit.clock import utcnow
from lastmile.kit.ids import new_id


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int


class ProofStore(Protocol):
    """One organization's proof files, addressed by the SHA-256 of their bytes."""

    def put(self, content: bytes, content_type: str) -> StoredFile:
        """Keep ``content`` (once: the same bytes again are the same file)."""
        ...

    def describe(self, hashes: Collection[str]) -> dict[str, StoredFile]:
        """What is known of each of ``hashes`` that is stored."""
        ...

    def read(self, sha256: str) -> tuple[StoredFile, bytes] | None:
        """A file and its bytes, or None if not stored."""
        ...


class ProofFileRepository(TenantRepository[ProofFile]):
    model = ProofFile


def _stored(row: ProofFile) -> StoredFile:
    return StoredFile(row.sha256, row.content_type, row.size)


class DatabaseProofStore:
    """Files in the ``proof_files`` table, inside the caller's transaction: a proof and its
    files commit together, and every server process sees them."""

    def __init__(self, session: Session, scope: TenantScope) -> None:
        self.session = session
        self.files = ProofFileRepository(session, scope)
        self.organization_id = scope.organization_id

    def put(self, content: bytes, content_type: str) -> StoredFile:
        digest = hashlib.sha256(content).hexdigest()
        row = {
            "id": new_id("pff"), "organization_id": self.organization_id, "sha256": digest,
            "content_type": content_type, "size": len(content), "content": content,
            "created_at": utcnow(),
        }  # fmt: skip
        # Two drivers may upload the same bytes at once: the second insert is a no-op.
        dialect = self.session.get_bind().dialect.name
        stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ProofFile)
        self.session.execute(
            stmt.values(row).on_conflict_do_nothing(index_elements=["organization_id", "sha256"])
        )
        return StoredFile(digest, content_type, len(content))

    def describe(self, hashes: Collection[str]) -> dict[str, StoredFile]:
        if not hashes:
            return {}
        rows = self.session.execute(
            self.files.scoped()
            .with_only_columns(ProofFile.sha256, ProofFile.content_type, ProofFile.size)
            .where(ProofFile.sha256.in_(hashes))
        )
        return {sha: StoredFile(sha, kind, size) for sha, kind, size in rows}

    def read(self, sha256: str) -> tuple[StoredFile, bytes] | None:
        row = self.session.scalars(self.files.scoped().where(ProofFile.sha256 == sha256)).first()
        return None if row is None else (_stored(row), row.content)
