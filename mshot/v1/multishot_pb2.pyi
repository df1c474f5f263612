from mshot.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MultishotOptions(_message.Message):
    __slots__ = ("device", "seed", "max_iters")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MAX_ITERS_FIELD_NUMBER: _ClassVar[int]
    device: _common_pb2.Device
    seed: int
    max_iters: int
    def __init__(self, device: _Optional[_Union[_common_pb2.Device, str]] = ..., seed: _Optional[int] = ..., max_iters: _Optional[int] = ...) -> None: ...

class FitRequest(_message.Message):
    __slots__ = ("job_id", "tracklets", "keypoints", "options")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TRACKLETS_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    tracklets: _common_pb2.ArtifactRef
    keypoints: _common_pb2.ArtifactRef
    options: MultishotOptions
    def __init__(self, job_id: _Optional[str] = ..., tracklets: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., keypoints: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., options: _Optional[_Union[MultishotOptions, _Mapping]] = ...) -> None: ...
