"""Artifact store: content-addressed, write-once files shared by all stages (docs/store.md)."""

from mshot.store.base import ArtifactRef, ArtifactStore, sha256_file
from mshot.store.factory import open_store

__all__ = ["ArtifactRef", "ArtifactStore", "open_store", "sha256_file"]
