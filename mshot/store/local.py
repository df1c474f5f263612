"""A local folder as artifact store: the embedded default for one machine (`MSHOT_STORE=/path`)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from mshot.errors import IntegrityError, NotFound, Unavailable
from mshot.scratch import claim_scratch
from mshot.store.base import (
    CHUNK,
    ArtifactRef,
    ArtifactStore,
    check_document_name,
    check_upload,
    corrupt,
    sha256_file,
    spool_chunks,
)


class LocalStore(ArtifactStore):
    """Layout: `<root>/sha256/<hex>` artifacts (read-only once written), `<root>/docs/<name>` documents."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        try:
            (self.root / "sha256").mkdir(parents=True, exist_ok=True)
            (self.root / "docs").mkdir(parents=True, exist_ok=True)
            self.tmp = claim_scratch(self.root / "tmp", "store")  # half-written files of killed processes go
        except OSError as exc:
            raise Unavailable(f"cannot use {self.root} as artifact store: {exc}") from None

    def _path(self, ref: ArtifactRef) -> Path:
        ref.validate()
        return self.root / ref.key

    def _adopt(self, tmp: Path, sha256: str, size: int, media_type: str) -> ArtifactRef:
        ref = ArtifactRef.for_digest(sha256, media_type, size)
        target = self._path(ref)
        if target.exists():
            tmp.unlink(missing_ok=True)
        else:
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        return ref

    def put_file(self, path: str | Path, media_type: str) -> ArtifactRef:
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"file not found: {path}")
        sha256, size = sha256_file(path)
        ref = ArtifactRef.for_digest(sha256, media_type, size)
        if self._path(ref).exists():
            return ref
        fd, tmp = tempfile.mkstemp(prefix=".put.", dir=self.tmp)
        os.close(fd)
        shutil.copyfile(path, tmp)
        return self._adopt(Path(tmp), sha256, size, media_type)

    def put_stream(
        self,
        chunks: Iterable[bytes],
        media_type: str,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_bytes: int | None = None,
    ) -> ArtifactRef:
        tmp, sha256, size = spool_chunks(chunks, self.tmp, max_bytes)
        try:
            check_upload(sha256, size, expected_sha256, expected_size)
        except IntegrityError:
            tmp.unlink(missing_ok=True)
            raise
        return self._adopt(tmp, sha256, size, media_type)

    def get_file(self, ref: ArtifactRef, dest: str | Path) -> Path:
        source = self._path(ref)
        if not source.is_file():
            raise NotFound(f"artifact {ref.key} is not in the store")
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(source, "rb") as src, open(dest, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != ref.sha256:
            dest.unlink(missing_ok=True)
            source.unlink(missing_ok=True)
            raise corrupt(ref, digest.hexdigest())
        return dest

    def exists(self, ref: ArtifactRef) -> bool:
        return self._path(ref).is_file()

    def _doc_path(self, name: str) -> Path:
        return self.root / "docs" / check_document_name(name)

    def put_document(self, name: str, data: bytes) -> None:
        path = self._doc_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".doc.", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get_document(self, name: str) -> bytes | None:
        path = self._doc_path(name)
        return path.read_bytes() if path.is_file() else None

    def list_documents(self, prefix: str) -> list[str]:
        base = self.root / "docs"
        return sorted(
            str(p.relative_to(base))
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".") and str(p.relative_to(base)).startswith(prefix)
        )

    def check(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise Unavailable(f"artifact store folder {self.root} is not writable")
