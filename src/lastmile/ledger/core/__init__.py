"""The ledger's pure core: hashing, signing, Merkle trees, chain and receipt verification.

No I/O and no database or web imports (``tests/test_architecture.py`` keeps it so), so the
same code verifies a live ledger, a benchmark's synthetic chain and a receipt offline.
"""

from lastmile.ledger.core.chain import ChainHead, ChainReport, Fault, FaultKind, verify_chain
from lastmile.ledger.core.entry import GENESIS_HASH, Entry, SignedEntry
from lastmile.ledger.core.events import CustodyEvent
from lastmile.ledger.core.receipt import VerifyResult, build_receipt, verify_receipt
from lastmile.ledger.core.roots import DayRoot, SignedRoot

__all__ = [
    "GENESIS_HASH",
    "ChainHead",
    "ChainReport",
    "CustodyEvent",
    "DayRoot",
    "Entry",
    "Fault",
    "FaultKind",
    "SignedEntry",
    "SignedRoot",
    "VerifyResult",
    "build_receipt",
    "verify_chain",
    "verify_receipt",
]
