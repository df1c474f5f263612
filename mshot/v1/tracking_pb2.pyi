from mshot.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrackingOptions(_message.Message):
    __slots__ = ("backend", "device", "max_people", "phalp_results", "focal_px")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PEOPLE_FIELD_NUMBER: _ClassVar[int]
    PHALP_RESULTS_FIELD_NUMBER: _ClassVar[int]
    FOCAL_PX_FIELD_NUMBER: _ClassVar[int]
    backend: str
    device: _common_pb2.Device
    max_people: int
    phalp_results: _common_pb2.ArtifactRef
    focal_px: float
    def __init__(self, backend: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.Device, str]] = ..., max_people: _Optional[int] = ..., phalp_results: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., focal_px: _Optional[float] = ...) -> None: ...

class TrackRequest(_message.Message):
    __slots__ = ("job_id", "video", "options")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    video: _common_pb2.ArtifactRef
    options: TrackingOptions
    def __init__(self, job_id: _Optional[str] = ..., video: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., options: _Optional[_Union[TrackingOptions, _Mapping]] = ...) -> None: ...
