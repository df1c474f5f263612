"""Server interceptor: domain errors -> gRPC status, unexpected errors -> INTERNAL without a traceback
on the wire (the traceback goes to the log with the job id), and the optional bearer-token check.

Messages leave the server without its file system: an absolute path in a message (a stage's scratch copy of
an input, the store's folder) is cut to its last part, e.g. `/var/tmp/tracking-x1/in/tracklets.npz` ->
`tracklets.npz`, which names the input; the full message stays in the server log."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterator

import grpc

from mshot.errors import MshotError
from mshot.logs import current_job_id
from mshot.rpc.errors import status_code_for

log = logging.getLogger("mshot.rpc")

# Probes and tooling must work without a token.
_OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
# An absolute path of two or more parts that is not inside a URL (s3://b/k, http://h/p) or a key (sha256/x).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/-])/(?:[^\s/'\"(),:;]+/)+([^\s/'\"(),:;]*)")


def without_paths(message: str) -> str:
    """`message` with every absolute file path replaced by its last part."""
    return _ABSOLUTE_PATH.sub(lambda match: match.group(1) or "(folder)", message)


def _abort(context: grpc.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, MshotError):
        code = status_code_for(exc)
        log.info("request failed: %s", exc.message, extra={"status": code.name, "method": method})
        context.abort(code, without_paths(exc.message))
    log.error("unexpected error in %s", method, exc_info=exc, extra={"method": method})
    job = current_job_id()
    suffix = f" (job {job})" if job else ""
    context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}{suffix}: {type(exc).__name__}; see server log")


def _wrap_unary(behavior, method: str):
    def handler(request_or_iterator, context):
        try:
            return behavior(request_or_iterator, context)
        except Exception as exc:  # noqa: BLE001 - the one place every error is mapped
            if isinstance(exc, grpc.RpcError) and not isinstance(exc, MshotError):
                raise
            _abort(context, exc, method)

    return handler


def _wrap_stream(behavior, method: str):
    def handler(request_or_iterator, context) -> Iterator:
        try:
            yield from behavior(request_or_iterator, context)
        except Exception as exc:  # noqa: BLE001
            if isinstance(exc, grpc.RpcError) and not isinstance(exc, MshotError):
                raise
            _abort(context, exc, method)

    return handler


class ErrorAndAuthInterceptor(grpc.ServerInterceptor):
    def __init__(self, auth_token: str = ""):
        self.auth_token = auth_token

    def _authorised(self, details: grpc.HandlerCallDetails) -> bool:
        if not self.auth_token or details.method.startswith(_OPEN_PREFIXES):
            return True
        metadata = dict(details.invocation_metadata or ())
        given = metadata.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.auth_token}".encode())

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if not self._authorised(handler_call_details):

            def deny(behavior, method):
                def refuse(request_or_iterator, context):
                    context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

                return refuse

            return _replace_behavior(handler, deny, method)
        return _replace_behavior(handler, _wrap_stream if handler.response_streaming else _wrap_unary, method)


def _replace_behavior(handler: grpc.RpcMethodHandler, wrap, method: str) -> grpc.RpcMethodHandler:
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind)
        if behavior is not None:
            return handler._replace(**{kind: wrap(behavior, method)})
    return handler
