"""Typed, frozen configuration read from the environment (MSHOT_* variables).

Each component reads what it needs once at start-up; a malformed value fails at once with
FailedPrecondition naming the variable. `docs/configuration.md` lists every variable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mshot.errors import FailedPrecondition

STAGES = ("tracking", "keypoints", "multishot", "dataset")
DEFAULT_PORTS = {"orchestrator": 50050, "tracking": 50051, "keypoints": 50052, "multishot": 50053, "dataset": 50054}


def env_str(name: str, default: str = "", env: Mapping[str, str] | None = None) -> str:
    return (os.environ if env is None else env).get(name, default).strip()


def env_int(name: str, default: int, env: Mapping[str, str] | None = None, minimum: int | None = None) -> int:
    raw = env_str(name, "", env)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FailedPrecondition(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise FailedPrecondition(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, env: Mapping[str, str] | None = None, minimum: float | None = None) -> float:
    raw = env_str(name, "", env)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise FailedPrecondition(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        raise FailedPrecondition(f"{name}={raw} must be a finite number" + (f" of at least {minimum:g}"
                                                                             if minimum is not None else ""))
    return value


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "", env).lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise FailedPrecondition(f"{name}={raw!r} is not a boolean (true/false)")


def env_choice(name: str, choices: tuple[str, ...], default: str, env: Mapping[str, str] | None = None) -> str:
    """One of `choices` (an empty value is `default`); FailedPrecondition naming the variable otherwise."""
    value = env_str(name, "", env) or default
    if value not in choices:
        raise FailedPrecondition(f"{name}={value!r}: choose one of {', '.join(choices)}")
    return value


DEVICES = ("auto", "cpu", "cuda")  # MSHOT_DEVICE and every --device option


def env_device(env: Mapping[str, str] | None = None) -> str:
    """MSHOT_DEVICE: auto (CUDA when available), cpu or cuda."""
    return env_choice("MSHOT_DEVICE", DEVICES, "auto", env)


def orchestrator_address(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Where clients find the orchestrator: `explicit` (--addr), else MSHOT_ORCHESTRATOR_ADDR, else the default
    port on loopback. Read when a command runs, never at import time."""
    return explicit or env_str("MSHOT_ORCHESTRATOR_ADDR", f"127.0.0.1:{DEFAULT_PORTS['orchestrator']}", env)


@dataclass(frozen=True)
class StoreConfig:
    """Where artifacts live. `location` is a local folder, or `s3://BUCKET[/PREFIX]` for MinIO/S3."""

    location: str = ".mshot/store"
    s3_endpoint: str = ""  # host:port
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreConfig:
        config = cls(
            location=env_str("MSHOT_STORE", cls.location, env),
            s3_endpoint=env_str("MSHOT_S3_ENDPOINT", "", env),
            s3_access_key=env_str("MSHOT_S3_ACCESS_KEY", "", env),
            s3_secret_key=env_str("MSHOT_S3_SECRET_KEY", "", env),
            s3_secure=env_bool("MSHOT_S3_SECURE", False, env),
            s3_region=env_str("MSHOT_S3_REGION", "us-east-1", env),
        )
        if config.is_s3 and not config.s3_endpoint:
            raise FailedPrecondition("MSHOT_STORE is an s3:// location but MSHOT_S3_ENDPOINT is not set")
        return config


@dataclass(frozen=True)
class TlsConfig:
    """TLS from PEM files, server-only and mutual as separate settings.

    Server side: `cert` + `key` turn TLS on; `client_ca` also requires every client to present a certificate
    signed by it (mutual TLS). Client side: TLS is on when `ca` (the CA that signed the servers; empty = the
    system's roots) or `cert` is set; `cert` + `key` are presented to servers that ask (mutual TLS).
    """

    cert: str = ""
    key: str = ""
    ca: str = ""
    client_ca: str = ""

    @property
    def enabled(self) -> bool:
        """This process serves TLS."""
        return bool(self.cert)

    @property
    def mutual(self) -> bool:
        """This process, as a server, requires client certificates."""
        return bool(self.client_ca)

    @property
    def client_enabled(self) -> bool:
        """This process, as a client, dials with TLS."""
        return bool(self.ca or self.cert)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TlsConfig:
        names = ("MSHOT_TLS_CERT", "MSHOT_TLS_KEY", "MSHOT_TLS_CA", "MSHOT_TLS_CLIENT_CA")
        config = cls(*(env_str(name, "", env) for name in names))
        for name, value in zip(names, (config.cert, config.key, config.ca, config.client_ca), strict=True):
            if value and not Path(value).is_file():
                raise FailedPrecondition(f"{name}={value} is not a readable file")
        if bool(config.cert) != bool(config.key):
            raise FailedPrecondition("MSHOT_TLS_CERT and MSHOT_TLS_KEY must be set together")
        return config


@dataclass(frozen=True)
class ServerConfig:
    """What every gRPC server shares."""

    host: str = "127.0.0.1"
    port: int = 0
    max_concurrent_jobs: int = 2
    grace_seconds: float = 30.0
    max_message_bytes: int = 8 * 1024 * 1024  # stage messages carry references, uploads come in 1 MiB chunks
    auth_token: str = ""
    tls: TlsConfig = field(default_factory=TlsConfig)
    scratch: str = ""  # folder for a job's temporary files (MSHOT_SCRATCH); "" = the system's temporary folder

    @classmethod
    def from_env(cls, component: str, env: Mapping[str, str] | None = None) -> ServerConfig:
        return cls(
            host=env_str("MSHOT_HOST", "127.0.0.1", env),
            port=env_int("MSHOT_PORT", DEFAULT_PORTS[component], env, minimum=0),
            max_concurrent_jobs=env_int("MSHOT_MAX_CONCURRENT_JOBS", 2, env, minimum=1),
            grace_seconds=env_float("MSHOT_GRACE_SECONDS", 30.0, env),
            max_message_bytes=env_int("MSHOT_MAX_MESSAGE_BYTES", 8 * 1024 * 1024, env, minimum=64 * 1024),
            auth_token=env_str("MSHOT_AUTH_TOKEN", "", env),
            tls=TlsConfig.from_env(env),
            scratch=env_str("MSHOT_SCRATCH", "", env),
        )


@dataclass(frozen=True)
class OrchestratorConfig:
    """Stage addresses (gRPC targets), how many jobs run and wait, and the retry policy for stage calls.

    A stage that answers UNAVAILABLE or misses its deadline is retried with jittered exponential backoff for
    `retry_window_s` (long enough for a pod to be rescheduled and load its models); a busy stage (RESOURCE_EXHAUSTED)
    is waited for in the orchestrator's per-stage queue for up to `stage_queue_max_wait_s`."""

    stage_addresses: Mapping[str, str] = field(default_factory=dict)
    retry_window_s: float = 600.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    busy_backoff_s: float = 0.5
    busy_backoff_max_s: float = 5.0
    stage_queue_max_wait_s: float = 3600.0
    max_running_jobs: int = 16
    max_queued_jobs: int = 1000
    stage_deadline_s: float = 6 * 3600.0
    max_upload_bytes: int = 4 * 1024**3
    metrics_port: int = 0  # 0: no /metrics endpoint

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OrchestratorConfig:
        addresses = {
            stage: env_str(f"MSHOT_{stage.upper()}_ADDR", f"127.0.0.1:{DEFAULT_PORTS[stage]}", env) for stage in STAGES
        }
        return cls(
            stage_addresses=addresses,
            retry_window_s=env_float("MSHOT_STAGE_RETRY_WINDOW_S", 600.0, env, minimum=0.0),
            backoff_initial_s=env_float("MSHOT_STAGE_BACKOFF_S", 1.0, env, minimum=0.001),
            backoff_max_s=env_float("MSHOT_STAGE_BACKOFF_MAX_S", 30.0, env, minimum=0.001),
            busy_backoff_s=env_float("MSHOT_STAGE_BUSY_BACKOFF_S", 0.5, env, minimum=0.001),
            busy_backoff_max_s=env_float("MSHOT_STAGE_BUSY_BACKOFF_MAX_S", 5.0, env, minimum=0.001),
            stage_queue_max_wait_s=env_float("MSHOT_STAGE_QUEUE_MAX_WAIT_S", 3600.0, env, minimum=0.0),
            max_running_jobs=env_int("MSHOT_MAX_RUNNING_JOBS", 16, env, minimum=1),
            max_queued_jobs=env_int("MSHOT_MAX_QUEUED_JOBS", 1000, env, minimum=0),
            stage_deadline_s=env_float("MSHOT_STAGE_DEADLINE_S", 6 * 3600.0, env, minimum=1.0),
            max_upload_bytes=env_int("MSHOT_MAX_UPLOAD_BYTES", 4 * 1024**3, env, minimum=1),
            metrics_port=env_int("MSHOT_METRICS_PORT", 0, env, minimum=0),
        )
