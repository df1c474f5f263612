"""MinIO / S3 as artifact store (`MSHOT_STORE=s3://BUCKET[/PREFIX]`), through the `minio` SDK.

Uploads stream from disk with multipart above 16 MiB parts; downloads stream to disk and are hashed on
the way. Connection failures become Unavailable (the orchestrator retries them), a missing object NotFound.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import S3Error

from mshot.config import StoreConfig
from mshot.errors import NotFound, Unavailable
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
from mshot.store.presign import sign_headers, upload_headers

PART_SIZE = 16 * 1024 * 1024
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchBucket"}


def _unavailable(exc: Exception, what: str) -> Unavailable:
    return Unavailable(f"artifact store unreachable while {what}: {type(exc).__name__}: {exc}")


class S3Store(ArtifactStore):
    def __init__(self, config: StoreConfig, scratch: str | Path | None = None):
        bucket_and_prefix = config.location[len("s3://") :].strip("/")
        self.bucket, _, prefix = bucket_and_prefix.partition("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self._secret_key = config.s3_secret_key
        self.scratch = claim_scratch(Path(scratch or tempfile.gettempdir()), "mshot-s3-spool")
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=120.0),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self.client = Minio(
            config.s3_endpoint,
            access_key=config.s3_access_key,
            secret_key=config.s3_secret_key,
            secure=config.s3_secure,
            region=config.s3_region,
            http_client=http,
        )
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise _unavailable(exc, f"creating bucket {self.bucket}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"checking bucket {self.bucket}") from None

    def _object(self, key: str) -> str:
        return self.prefix + key

    def exists(self, ref: ArtifactRef) -> bool:
        ref.validate()
        try:
            self.client.stat_object(self.bucket, self._object(ref.key))
            return True
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                return False
            raise _unavailable(exc, f"looking up {ref.key}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"looking up {ref.key}") from None

    def _upload(self, path: Path, ref: ArtifactRef) -> ArtifactRef:
        if self.exists(ref):
            return ref
        try:
            self.client.fput_object(
                self.bucket, self._object(ref.key), str(path), content_type=ref.media_type, part_size=PART_SIZE
            )
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"uploading {ref.key}") from None
        return ref

    def put_file(self, path: str | Path, media_type: str) -> ArtifactRef:
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"file not found: {path}")
        sha256, size = sha256_file(path)
        return self._upload(path, ArtifactRef.for_digest(sha256, media_type, size))

    def put_stream(
        self,
        chunks: Iterable[bytes],
        media_type: str,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_bytes: int | None = None,
    ) -> ArtifactRef:
        tmp, sha256, size = spool_chunks(chunks, self.scratch, max_bytes)
        try:
            check_upload(sha256, size, expected_sha256, expected_size)
            return self._upload(tmp, ArtifactRef.for_digest(sha256, media_type, size))
        finally:
            tmp.unlink(missing_ok=True)

    def get_file(self, ref: ArtifactRef, dest: str | Path) -> Path:
        ref.validate()
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            response = self.client.get_object(self.bucket, self._object(ref.key))
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise NotFound(f"artifact {ref.key} is not in the store") from None
            raise _unavailable(exc, f"downloading {ref.key}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"downloading {ref.key}") from None
        try:
            with open(dest, "wb") as out:
                for chunk in response.stream(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            dest.unlink(missing_ok=True)
            raise _unavailable(exc, f"downloading {ref.key}") from None
        finally:
            response.close()
            response.release_conn()
        if digest.hexdigest() != ref.sha256:
            dest.unlink(missing_ok=True)
            self._remove(ref)
            raise corrupt(ref, digest.hexdigest())
        return dest

    def _remove(self, ref: ArtifactRef) -> None:
        try:
            self.client.remove_object(self.bucket, self._object(ref.key))
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"removing the corrupt {ref.key}") from None

    def put_document(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(self.bucket, self._object(f"docs/{check_document_name(name)}"), io.BytesIO(data),
                                   len(data), content_type="application/json")
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"writing document {name}") from None

    def get_document(self, name: str) -> bytes | None:
        try:
            response = self.client.get_object(self.bucket, self._object(f"docs/{check_document_name(name)}"))
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise _unavailable(exc, f"reading document {name}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, f"reading document {name}") from None
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def list_documents(self, prefix: str) -> list[str]:
        base = self._object("docs/")
        try:
            objects = self.client.list_objects(self.bucket, prefix=base + prefix, recursive=True)
            return sorted(obj.object_name[len(base) :] for obj in objects)
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, "listing documents") from None

    def check(self) -> None:
        try:
            self.client.bucket_exists(self.bucket)
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unavailable(exc, "checking the bucket") from None

    def presigned_put_url(self, ref: ArtifactRef, expires_s: int) -> str:
        """Signs `upload_headers(ref.sha256)` too: S3 refuses other bytes and a PUT over a stored key."""
        ref.validate()
        expires = timedelta(seconds=expires_s)
        url = self.client.presigned_put_object(self.bucket, self._object(ref.key), expires=expires)
        return sign_headers(url, self._secret_key, upload_headers(ref.sha256))
