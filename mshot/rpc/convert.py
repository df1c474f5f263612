"""Conversions between protobuf messages and the transport-agnostic types."""

from __future__ import annotations

from pathlib import Path

from mshot.errors import InvalidInput
from mshot.store import ArtifactRef
from mshot.v1 import common_pb2, pipeline_pb2

MEDIA_TYPES = {
    ".npz": "application/x-npz",
    ".json": "application/json",
    ".tar": "application/x-tar",
    ".zip": "application/zip",
    ".pkl": "application/x-pickle",
    ".mp4": "video/mp4",
    ".avi": "video/x-msvideo",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".png": "image/png",
}
SUFFIXES = {media: suffix for suffix, media in MEDIA_TYPES.items()}

# A job in one of these states never changes again.
TERMINAL_JOB_STATES = (pipeline_pb2.JOB_STATE_SUCCEEDED, pipeline_pb2.JOB_STATE_FAILED,
                       pipeline_pb2.JOB_STATE_CANCELLED)
DEVICES = {common_pb2.DEVICE_AUTO: "auto", common_pb2.DEVICE_CPU: "cpu", common_pb2.DEVICE_CUDA: "cuda"}


def media_type_for(path: str | Path) -> str:
    return MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def suffix_for(media_type: str) -> str:
    return SUFFIXES.get(media_type, "")


def ref_from_proto(message: common_pb2.ArtifactRef, field: str) -> ArtifactRef:
    """A validated ArtifactRef; InvalidInput naming `field` if the reference is empty or malformed."""
    if not message.key and not message.sha256:
        raise InvalidInput(f"'{field}' artifact reference is missing")
    ref = ArtifactRef(message.key, message.sha256, message.media_type, message.size_bytes)
    try:
        ref.validate()
    except InvalidInput as exc:
        raise InvalidInput(f"'{field}': {exc.message}") from None
    return ref


def optional_ref(message: common_pb2.ArtifactRef, field: str) -> ArtifactRef | None:
    return ref_from_proto(message, field) if (message.key or message.sha256) else None


def ref_to_proto(ref: ArtifactRef) -> common_pb2.ArtifactRef:
    return common_pb2.ArtifactRef(key=ref.key, sha256=ref.sha256, media_type=ref.media_type, size_bytes=ref.size_bytes)


def device_name(value: int) -> str:
    return DEVICES.get(value, "auto")


def device_enum(name: str) -> int:
    """The proto Device for a name of mshot.config.DEVICES."""
    for value, known in DEVICES.items():
        if known == name:
            return value
    raise InvalidInput(f"unknown device '{name}'; choose one of {', '.join(DEVICES.values())}")
