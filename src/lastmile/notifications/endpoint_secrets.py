"""Webhook signing secrets, kept encrypted at rest.

Signing needs the secret itself, so a hash will not do: it is encrypted with AES-GCM under a
key derived from ``settings.secret_key`` (HKDF-SHA256), with the endpoint id as associated data
so a ciphertext cannot be moved to another endpoint. Changing ``secret_key`` makes stored
secrets unreadable: endpoints must then be given new secrets.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lastmile.kit.crypto import random_token

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
_NONCE_BYTES = 12


def _key(secret_key: str) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lastmile webhook secrets")
    return kdf.derive(secret_key.encode())


def new_secret() -> str:
    """A fresh signing secret (256 bits), shown to the merchant once."""
    return SECRET_PREFIX + random_token(32)


def encrypt_secret(secret_key: str, endpoint_id: str, secret: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), endpoint_id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(secret_key: str, endpoint_id: str, stored: str) -> str:
    """The secret back; ``cryptography.exceptions.InvalidTag`` if the key or id differ."""
    raw = base64.urlsafe_b64decode(stored.encode())
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    return AESGCM(_key(secret_key)).decrypt(nonce, sealed, endpoint_id.encode()).decode()
