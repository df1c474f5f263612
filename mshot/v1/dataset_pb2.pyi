from mshot.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DatasetOptions(_message.Message):
    __slots__ = ("formats", "person_ids", "target_frames", "val_fraction", "skip_previews")
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    TARGET_FRAMES_FIELD_NUMBER: _ClassVar[int]
    VAL_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SKIP_PREVIEWS_FIELD_NUMBER: _ClassVar[int]
    formats: _containers.RepeatedScalarFieldContainer[str]
    person_ids: _containers.RepeatedScalarFieldContainer[int]
    target_frames: int
    val_fraction: float
    skip_previews: bool
    def __init__(self, formats: _Optional[_Iterable[str]] = ..., person_ids: _Optional[_Iterable[int]] = ..., target_frames: _Optional[int] = ..., val_fraction: _Optional[float] = ..., skip_previews: bool = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("job_id", "video", "tracklets", "keypoints", "fits", "options")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    TRACKLETS_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    FITS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    video: _common_pb2.ArtifactRef
    tracklets: _common_pb2.ArtifactRef
    keypoints: _common_pb2.ArtifactRef
    fits: _common_pb2.ArtifactRef
    options: DatasetOptions
    def __init__(self, job_id: _Optional[str] = ..., video: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., tracklets: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., keypoints: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., fits: _Optional[_Union[_common_pb2.ArtifactRef, _Mapping]] = ..., options: _Optional[_Union[DatasetOptions, _Mapping]] = ...) -> None: ...
