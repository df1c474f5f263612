"""Shared fixtures: an S3 endpoint (moto server on loopback) and small helpers."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 endpoint on 127.0.0.1 (moto's threaded server); yields 'host:port'."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint):
    from mshot.config import StoreConfig

    return StoreConfig(location=f"s3://mshot-test-{uuid.uuid4().hex[:8]}", s3_endpoint=s3_endpoint,
                       s3_access_key="test", s3_secret_key="test-secret")
