"""Pick the store implementation from configuration."""

from __future__ import annotations

from mshot.config import StoreConfig
from mshot.store.base import ArtifactStore


def open_store(config: StoreConfig | None = None) -> ArtifactStore:
    """A LocalStore for a folder location, an S3Store for `s3://BUCKET[/PREFIX]`."""
    config = config or StoreConfig.from_env()
    if config.is_s3:
        from mshot.store.s3 import S3Store

        return S3Store(config)
    from mshot.store.local import LocalStore

    return LocalStore(config.location)
