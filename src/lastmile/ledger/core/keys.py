"""Ed25519 signing keys: signatures in hex, and private keys sealed at rest.

A private key is stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the
deployment's secret, with the organization id as associated data: a sealed key copied to
another organization's row does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SEAL_INFO = b"lastmile ledger signing key v1"
_NONCE_BYTES = 12


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key in hex (how receipts and the API publish it)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def load_public_key(hex_key: str) -> Ed25519PublicKey:
    """Raises ValueError if ``hex_key`` is not 32 bytes of hex."""
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """Hex Ed25519 signature of ``message``."""
    return key.sign(message).hex()


def signature_valid(key: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    """Whether ``signature_hex`` is ``key``'s signature of ``message`` (False if malformed)."""
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _sealing_key(secret_key: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO)
    return AESGCM(hkdf.derive(secret_key.encode("utf-8")))


def seal_private_key(key: Ed25519PrivateKey, secret_key: str, organization_id: str) -> str:
    """The private key encrypted for storage: base64 of nonce and ciphertext."""
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _sealing_key(secret_key).encrypt(nonce, raw, organization_id.encode("utf-8"))
    return base64.b64encode(nonce + sealed).decode("ascii")


def open_private_key(sealed: str, secret_key: str, organization_id: str) -> Ed25519PrivateKey:
    """
    The private key :func:`seal_private_key` stored.

    Raises
    ------
    ValueError
        The secret is not the one it was sealed with, or the stored value was altered.
    """
    blob = base64.b64decode(sealed)
    try:
        raw = _sealing_key(secret_key).decrypt(
            blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], organization_id.encode("utf-8")
        )
    except InvalidTag as exc:
        raise ValueError("the ledger key does not open with this secret key") from exc
    return Ed25519PrivateKey.from_private_bytes(raw)
