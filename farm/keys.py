"""API keys: created with a name, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, select

from farm.db import ApiKeyRow, Database

KEY_CACHE_S = 5.0


class ApiKeyError(Exception):
    """A key name that is taken or unknown."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    name: str
    created: str


def create_key(db: Database, name: str, key: str | None = None) -> str:
    """Create a key called ``name``; returns the key text (shown once, stored hashed)."""
    if not name or len(name) > 64:
        raise ApiKeyError("a key name has 1 to 64 characters")
    key = key or secrets.token_urlsafe(24)
    with db.session() as session:
        if session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name)) is not None:
            raise ApiKeyError(f"a key named '{name}' exists already")
        session.add(ApiKeyRow(name=name, key_hash=hash_key(key)))
    return key


def list_keys(db: Database) -> list[KeyInfo]:
    with db.session() as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name)).all()
        return [KeyInfo(row.name, row.created.isoformat()) for row in rows]


def revoke_key(db: Database, name: str) -> None:
    with db.session() as session:
        result = session.execute(delete(ApiKeyRow).where(ApiKeyRow.name == name))
        if result.rowcount == 0:
            raise ApiKeyError(f"no key named '{name}'")


class KeyChecker:
    """Answers "is this key valid" from memory, re-reading the table every few seconds
    so keys created or revoked by ``slicefarm keys`` in another process take effect."""

    def __init__(self, db: Database):
        self._db = db
        self._hashes: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def valid(self, key: str | None) -> bool:
        if not key:
            return False
        if time.monotonic() - self._loaded_at > KEY_CACHE_S:
            self.reload()
        return hash_key(key) in self._hashes

    def reload(self) -> None:
        with self._db.session() as session:
            self._hashes = frozenset(session.scalars(select(ApiKeyRow.key_hash)).all())
        self._loaded_at = time.monotonic()
