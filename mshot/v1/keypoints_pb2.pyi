from mshot.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeypointsOptions(_message.Message):
    __slots__ = ("backend", "device", "openpose_json")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    OPENPOSE_JSON_FIELD_NUMBER: _ClassVar[int]
    backend: str
    device: _common_pb2.Device
    openpose_json: _common_pb2.ArtifactRef
    def __init__(self, backend: _Optional[str] = ..., device: _Optional[_Union[_common_pb2.Device, str]] = ..., openpose_json: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ...) -> None: ...

class KeypointsRequest(_message.Message):
    __slots__ = ("job_id", "video", "tracklets", "options")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    TRACKLETS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    video: _common_pb2.ArtifactRef
    tracklets: _common_pb2.ArtifactRef
    options: KeypointsOptions
    def __init__(self, job_id: _Optional[str] = ..., video: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., tracklets: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., options: _Optional[_Union[KeypointsOptions, _Mapping]] = ...) -> None: ...
