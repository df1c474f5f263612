"""Bootstrap shared by every gRPC server: health, reflection, interceptor, TLS, message limits,
bounded concurrent jobs, and graceful SIGTERM.

Life cycle: `GrpcServer(...)` -> `add(...)` services -> `start()` (health NOT_SERVING) -> load models ->
`set_serving()` -> `wait()`. On SIGTERM or SIGINT health turns NOT_SERVING (load balancers stop sending
work), new RPCs are refused, and in-flight work has `grace_seconds` to finish; stage work still running
near the end of the grace period is handed back with UNAVAILABLE so the orchestrator retries it elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mshot.config import ServerConfig
from mshot.errors import FailedPrecondition, ResourceExhausted
from mshot.rpc.interceptor import ErrorAndAuthInterceptor

log = logging.getLogger("mshot.server")


class JobSlots:
    """At most `limit` jobs at once; one more is refused with RESOURCE_EXHAUSTED instead of queueing."""

    def __init__(self, limit: int):
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)

    @contextlib.contextmanager
    def acquire(self, what: str):
        if not self._semaphore.acquire(blocking=False):
            raise ResourceExhausted(f"{what}: all {self.limit} job slots are busy; retry later")
        try:
            yield
        finally:
            self._semaphore.release()


class Lifecycle:
    """Shutdown state shared with servicers: when set, work must finish before `deadline` (monotonic)."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.deadline = float("inf")

    def begin_shutdown(self, grace_seconds: float) -> None:
        # Leave a margin so handed-back work reaches the client before the server cuts connections.
        self.deadline = time.monotonic() + max(grace_seconds - 2.0, 0.0)
        self.stopping.set()

    def must_hand_back(self) -> bool:
        return self.stopping.is_set() and time.monotonic() >= self.deadline


def _credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    """None (plaintext), server-only TLS (cert + key), or mutual TLS (also a client CA: MSHOT_TLS_CLIENT_CA)."""
    tls = config.tls
    if not tls.enabled:
        return None
    pair = (Path(tls.key).read_bytes(), Path(tls.cert).read_bytes())
    if not tls.mutual:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials([pair], root_certificates=Path(tls.client_ca).read_bytes(),
                                       require_client_auth=True)


class GrpcServer:
    def __init__(self, component: str, config: ServerConfig, cheap_call_threads: int = 16):
        """`cheap_call_threads`: threads beyond the job slots for calls that are not jobs (health, GetJob, and
        WatchJob streams, which hold a thread each while they follow a job: the orchestrator wants many)."""
        self.component = component
        self.config = config
        self.lifecycle = Lifecycle()
        self.slots = JobSlots(config.max_concurrent_jobs)
        self.server = grpc.server(
            # Slots for jobs plus room for cheap calls so they never starve.
            futures.ThreadPoolExecutor(max_workers=config.max_concurrent_jobs + cheap_call_threads,
                                       thread_name_prefix=component),
            interceptors=[ErrorAndAuthInterceptor(config.auth_token)],
            options=[
                ("grpc.max_receive_message_length", config.max_message_bytes),
                ("grpc.max_send_message_length", config.max_message_bytes),
                ("grpc.so_reuseport", 0),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ],
        )
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names: list[str] = []
        self.port = 0

    def add(self, register, servicer, service_full_name: str) -> None:
        """register: a generated `add_XServicer_to_server`; service_full_name e.g. 'mshot.v1.Tracking'."""
        register(servicer, self.server)
        self.service_names.append(service_full_name)

    def _set_health(self, status) -> None:
        for name in ["", *self.service_names]:
            self.health.set(name, status)

    def start(self) -> int:
        names = [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        address = f"{self.config.host}:{self.config.port}"
        credentials = _credentials(self.config)
        try:
            if credentials is None:
                self.port = self.server.add_insecure_port(address)
            else:
                self.port = self.server.add_secure_port(address, credentials)
        except RuntimeError:  # grpc's "Failed to bind": the port is taken or the host is not this machine's
            self.port = 0
        if self.port == 0:
            raise FailedPrecondition(f"{self.component} cannot listen on {address}: the port is in use, or the host is "
                                     "not an address of this machine (MSHOT_HOST, MSHOT_PORT)")
        self.server.start()
        security = ("mutual tls" if self.config.tls.mutual else "tls") if credentials else "plaintext"
        log.info("listening on %s:%d (%s)", self.config.host, self.port, security)
        return self.port

    def set_serving(self) -> None:
        self._set_health(health_pb2.HealthCheckResponse.SERVING)
        log.info("serving")

    def install_signal_handlers(self) -> None:
        def on_signal(signum, _frame):
            log.info("received %s: graceful stop within %.0f s", signal.Signals(signum).name, self.config.grace_seconds)
            threading.Thread(target=self.stop, daemon=True).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def stop(self) -> None:
        self.lifecycle.begin_shutdown(self.config.grace_seconds)
        self.health.enter_graceful_shutdown()
        self.server.stop(self.config.grace_seconds).wait()
        log.info("stopped")

    def wait(self) -> None:
        self.server.wait_for_termination()
