"""Client channels with the project's settings: TLS and bearer token from config, client-side round robin
over every address a DNS name resolves to (headless Kubernetes Services), message limits, keepalive."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mshot.config import ServerConfig, TlsConfig

_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


class _BearerToken(grpc.AuthMetadataPlugin):
    def __init__(self, token: str):
        self.token = token

    def __call__(self, context, callback):
        callback((("authorization", f"Bearer {self.token}"),), None)


class _TokenInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                        grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds the bearer token on plaintext channels (call credentials need TLS)."""

    def __init__(self, token: str):
        self.metadata = (("authorization", f"Bearer {token}"),)

    def _details(self, details):
        return details._replace(metadata=tuple(details.metadata or ()) + self.metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


def open_channel(target: str, tls: TlsConfig | None = None, auth_token: str = "",
                 max_message_bytes: int = 8 * 1024 * 1024) -> grpc.Channel:
    options = [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.enable_retries", 0),  # stage retries are the orchestrator's, with its own policy
    ]
    if tls is not None and tls.client_enabled:
        ca = Path(tls.ca).read_bytes() if tls.ca else None
        key = Path(tls.key).read_bytes() if tls.key else None
        cert = Path(tls.cert).read_bytes() if tls.cert else None
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
        if auth_token:
            credentials = grpc.composite_channel_credentials(
                credentials, grpc.metadata_call_credentials(_BearerToken(auth_token)))
        return grpc.secure_channel(target, credentials, options=options)
    channel = grpc.insecure_channel(target, options=options)
    return grpc.intercept_channel(channel, _TokenInterceptor(auth_token)) if auth_token else channel


def channel_from_config(target: str, config: ServerConfig) -> grpc.Channel:
    return open_channel(target, config.tls, config.auth_token, config.max_message_bytes)


def health_status(channel: grpc.Channel, service: str = "", timeout_s: float = 5.0) -> str:
    """'SERVING', 'NOT_SERVING', ... or 'UNREACHABLE'."""
    try:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
    except grpc.RpcError:
        return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
