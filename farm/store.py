"""A content-addressed file store: uploads and G-code kept under their SHA-256.

Files live at ``ROOT/ab/abcdef...`` and are written through a temporary file and an atomic
rename, so a crash never leaves half a file under a valid name. User file names never reach
the file system: the only names used are hex digests.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

CHUNK_BYTES = 1 << 20


class TooLarge(Exception):
    """The data went over the store's size limit; nothing was kept."""

    def __init__(self, limit_bytes: int):
        self.limit_bytes = limit_bytes
        super().__init__(f"larger than the upload limit of {limit_bytes} bytes")


def _is_digest(sha: str) -> bool:
    return len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)


class Store:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(exist_ok=True)

    def clean_tmp(self) -> int:
        """Remove half-written files a crash left behind (call once, at service start)."""
        stale = [p for p in self._tmp.iterdir() if p.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def path(self, sha: str) -> Path:
        """Where the blob with this digest lives (it may not exist)."""
        if not _is_digest(sha):
            raise ValueError(f"not a SHA-256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put_bytes(self, data: bytes) -> str:
        handle, tmp = self._open_tmp()
        with handle:
            handle.write(data)
        return self._commit(tmp, hashlib.sha256(data).hexdigest())

    def put_text(self, text: str) -> str:
        return self.put_bytes(text.encode("utf-8"))

    async def put_stream(self, chunks: AsyncIterator[bytes], limit_bytes: int) -> tuple[str, int]:
        """Store an async stream of chunks; returns (digest, size). Raises TooLarge."""
        digest = hashlib.sha256()
        size = 0
        handle, tmp = self._open_tmp()
        try:
            with handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit_bytes:
                        raise TooLarge(limit_bytes)
                    digest.update(chunk)
                    handle.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._commit(tmp, digest.hexdigest()), size

    def read_bytes(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def read_text(self, sha: str) -> str:
        return self.path(sha).read_text(encoding="utf-8", errors="replace")

    def _open_tmp(self):
        fd, name = tempfile.mkstemp(dir=self._tmp)
        return os.fdopen(fd, "wb"), Path(name)

    def _commit(self, tmp: Path, sha: str) -> str:
        final = self.path(sha)
        final.parent.mkdir(exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
        return sha
