"""The store interface and what every implementation shares.

Artifacts are addressed by the sha256 of their bytes (key `sha256/<hex>`): written once, never changed,
and checked against the digest whenever they are read back. Besides artifacts the store keeps small
mutable *documents* (job state JSON) under `docs/<name>`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mshot.errors import DataLoss, FailedPrecondition, IntegrityError, InvalidInput, ResourceExhausted

CHUNK = 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{64}$")
_DOC_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_DOCUMENT_NAME = 256


def check_document_name(name: str) -> str:
    """`name` if it is a safe document name (`jobs/<id>.json`): at most 256 characters, '/'-separated parts of
    letters, digits, '.', '_', '-' not starting with a dot; InvalidInput otherwise (the same rule for every store,
    so a name is never cut short or turned into a path by one of them)."""
    parts = (name or "").split("/")
    if len(name or "") > MAX_DOCUMENT_NAME or not all(_DOC_PART.match(part) for part in parts):
        raise InvalidInput(f"bad document name '{name[:80]}': use at most {MAX_DOCUMENT_NAME} characters, "
                           "'/'-separated parts of letters, digits, '.', '_' and '-' not starting with '.'")
    return name


@dataclass(frozen=True)
class ArtifactRef:
    """A stored file: key, digest, media type and size in bytes."""

    key: str
    sha256: str
    media_type: str
    size_bytes: int

    @staticmethod
    def for_digest(sha256: str, media_type: str, size_bytes: int) -> ArtifactRef:
        if not _HEX.match(sha256 or ""):
            raise InvalidInput(f"'{sha256}' is not a sha256 hex digest (64 lowercase hex characters)")
        return ArtifactRef(f"sha256/{sha256}", sha256, media_type, size_bytes)

    def validate(self) -> None:
        """Raise InvalidInput unless the key is the content address of the digest."""
        if not _HEX.match(self.sha256 or ""):
            raise InvalidInput(f"artifact reference has no valid sha256: '{self.sha256}'")
        if self.key != f"sha256/{self.sha256}":
            raise InvalidInput(f"artifact key '{self.key}' does not match its sha256 {self.sha256}")


def sha256_file(path: str | Path) -> tuple[str, int]:
    """(hex digest, size in bytes) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def spool_chunks(
    chunks: Iterable[bytes], folder: Path, max_bytes: int | None = None
) -> tuple[Path, str, int]:
    """Write a byte stream to a temporary file in `folder` while hashing it. Returns (path, sha256, size).

    Raises ResourceExhausted past `max_bytes` (the partial file is removed).
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload.", dir=folder)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ResourceExhausted(f"upload exceeds the limit of {max_bytes} bytes")
                digest.update(chunk)
                f.write(chunk)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), digest.hexdigest(), size


def corrupt(ref: ArtifactRef, actual_sha256: str) -> DataLoss:
    return DataLoss(f"stored artifact {ref.key} is corrupt: its bytes hash to {actual_sha256}; it was removed from "
                    "the store, upload the file again")


def check_upload(sha256: str, size: int, expected_sha256: str | None, expected_size: int | None) -> None:
    """Raise IntegrityError when a received stream does not match what its sender declared."""
    if expected_size is not None and expected_size >= 0 and size != expected_size:
        raise IntegrityError(f"upload is truncated or padded: received {size} bytes, expected {expected_size}")
    if expected_sha256 and sha256 != expected_sha256:
        raise IntegrityError(f"upload checksum mismatch: received sha256 {sha256}, expected {expected_sha256}")


class ArtifactStore(ABC):
    """Content-addressed artifacts plus small mutable documents."""

    @abstractmethod
    def put_file(self, path: str | Path, media_type: str) -> ArtifactRef:
        """Store a file (streamed); storing the same bytes twice is a no-op returning the same ref."""

    @abstractmethod
    def put_stream(
        self,
        chunks: Iterable[bytes],
        media_type: str,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_bytes: int | None = None,
    ) -> ArtifactRef:
        """Store a byte stream, verifying it against the sender's declared digest and size."""

    @abstractmethod
    def get_file(self, ref: ArtifactRef, dest: str | Path) -> Path:
        """Copy an artifact to `dest`, verifying its digest. NotFound if absent; DataLoss if its bytes do not hash to
        its key (the corrupt object is removed, so storing the right bytes again repairs it)."""

    @abstractmethod
    def exists(self, ref: ArtifactRef) -> bool: ...

    @abstractmethod
    def put_document(self, name: str, data: bytes) -> None:
        """Create or replace a small document (atomic: readers see the old or the new bytes)."""

    @abstractmethod
    def get_document(self, name: str) -> bytes | None: ...

    @abstractmethod
    def list_documents(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def check(self) -> None:
        """Raise Unavailable if the store cannot be reached."""

    def presigned_put_url(self, ref: ArtifactRef, expires_s: int) -> str:
        """A URL a client can PUT the bytes of `ref` to, with `mshot.store.presign.upload_headers` (S3 stores only)."""
        raise FailedPrecondition("presigned upload URLs need an S3 store; this server uses a local store")

    def verify(self, ref: ArtifactRef, scratch: Path) -> None:
        """Read an artifact back and check its digest (e.g. after a presigned upload): NotFound if absent, DataLoss
        (and removed) if corrupt."""
        ref.validate()
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            self.get_file(ref, Path(tmp) / "check")
