"""Keys derived from BOT_SECRET: pseudonymous storage keys and encryption at rest.

One secret, several purposes: each purpose gets its own key through HKDF so that a key used to
hash ids can never decrypt anything and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import read_secret_file

log = logging.getLogger(__name__)

_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value could not be opened: wrong secret or tampered data."""


def load_or_create_secret(configured: str | None, path: Path) -> str:
    """The configured secret when there is one; otherwise the one kept in `path` (the per-user
    key file, see Settings.secret_path), generated there on first start.

    The file is created with mode 0600 in a folder of mode 0700, in one step, so no other user
    can read it even briefly; a key file others may read or change is refused (ConfigError).
    """
    if configured is not None:
        return configured
    if path.exists():
        return read_secret_file(path, "the key file")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    log.info("Generated a new BOT_SECRET in %s (mode 0600); back it up apart from the data", path)
    return value


class Keys:
    """Everything that needs the secret goes through here; the secret itself is never exposed."""

    def __init__(self, secret: str) -> None:
        root = secret.encode("utf-8")
        self._id_key = _derive(root, b"jigiya/storage-key/v1")
        self._aead = AESGCM(_derive(root, b"jigiya/at-rest/v1"))

    def __repr__(self) -> str:
        return "Keys(<redacted>)"

    def pseudonym(self, *parts: object) -> str:
        """A keyed hash of ids: stable for the same inputs, meaningless without the secret."""
        message = ":".join(str(p) for p in parts).encode("utf-8")
        return hmac.new(self._id_key, message, hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt and authenticate; `context` binds the ciphertext to its row (e.g. the id)."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context)
        except (InvalidTag, ValueError):
            raise SealError("sealed value cannot be opened with this BOT_SECRET") from None


def _derive(root: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)
