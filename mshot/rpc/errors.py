"""The one mapping between domain errors (mshot.errors) and gRPC status codes, both ways."""

from __future__ import annotations

import grpc

from mshot import errors

_TO_CODE: list[tuple[type[errors.MshotError], grpc.StatusCode]] = [
    (errors.InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.Cancelled, grpc.StatusCode.CANCELLED),
    (errors.StageFailed, grpc.StatusCode.INTERNAL),
    (errors.DataLoss, grpc.StatusCode.DATA_LOSS),
]

_FROM_CODE: dict[grpc.StatusCode, type[errors.MshotError]] = {code: cls for cls, code in _TO_CODE}
_FROM_CODE[grpc.StatusCode.DEADLINE_EXCEEDED] = errors.Unavailable


def status_code_for(exc: errors.MshotError) -> grpc.StatusCode:
    for cls, code in _TO_CODE:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def error_for_code(code: grpc.StatusCode, message: str) -> errors.MshotError:
    """The domain error a call that ended with status `code` stands for (MshotError for codes without one)."""
    return _FROM_CODE.get(code, errors.MshotError)(message)


def error_from_rpc(exc: grpc.RpcError, what: str) -> errors.MshotError:
    """Turn a failed call into the matching domain error; `what` says which call ("tracking stage", ...)."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = exc.details() if hasattr(exc, "details") else str(exc)
    return error_for_code(code, f"{what}: {details}")
