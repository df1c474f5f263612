"""Domain errors shared by every stage, the orchestrator and the CLI.

Code raises these; exactly one place maps them to transport codes: `mshot.rpc.errors` (gRPC status codes)
and `mshot.cli.main` (exit codes). Messages are written for the person who supplied the input: they name
the file, key or field at fault and say what was expected.
"""

from __future__ import annotations


class MshotError(Exception):
    """Base of every expected failure. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(MshotError):
    """The caller's input is wrong (bad file, bad shape, bad option). gRPC INVALID_ARGUMENT."""

    exit_code = 2


class NotFound(MshotError):
    """A named thing does not exist (file, artifact, job, person id). gRPC NOT_FOUND."""

    exit_code = 3


class FailedPrecondition(MshotError):
    """The system is not in a state to do this (model missing, backend unavailable). gRPC FAILED_PRECONDITION."""

    exit_code = 4


class ResourceExhausted(MshotError):
    """Too much: concurrent jobs, upload size. gRPC RESOURCE_EXHAUSTED."""

    exit_code = 5


class Unavailable(MshotError):
    """A dependency (store, stage server) cannot be reached right now; retrying may help. gRPC UNAVAILABLE."""

    exit_code = 6


class Cancelled(MshotError):
    """The work was cancelled by its caller or by shutdown. gRPC CANCELLED."""

    exit_code = 130


class StageFailed(MshotError):
    """An external tool a stage runs (e.g. PHALP) failed; the message carries its cause. gRPC INTERNAL."""

    exit_code = 1


class IntegrityError(InvalidInput):
    """Bytes a caller sent do not match what the caller declared (truncated upload, wrong sha256 or size)."""


class DataLoss(MshotError):
    """A stored artifact's bytes no longer hash to its key (overwritten or corrupted in the store). The store
    removes such an object, so uploading the right bytes again repairs it. gRPC DATA_LOSS."""

    exit_code = 7
