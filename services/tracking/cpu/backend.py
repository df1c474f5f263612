"""The CPU tracker: shots (PySceneDetect), people (candidates from the tracks' predicted boxes, segmentation blobs and
HOG, verified by BlazePose, which gives keypoints and masks), association across frames and cuts, pieces of one
person's track joined by mean appearance (stitching.py), tracks of parts of people dropped, gaps filled with
predicted rows, initial 3D bodies. Offline, no GPU."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mshot.artifacts.tracklets import save_tracklets
from mshot.geometry.camera import default_focal_px, image_centre
from mshot.progress import Progress, scaled
from mshot.shots import ShotCutter, frames_with_shots
from mshot.video import VideoInfo, iter_frames, probe_video, require_trackable
from services.tracking.cpu.association import AssociationOptions, Associator, Track
from services.tracking.cpu.detector import PeopleDetector, is_part_of_found
from services.tracking.cpu.initial3d import fit_initial_bodies
from services.tracking.cpu.revisit import RevisitOptions, revisit_tracks
from services.tracking.cpu.stitching import stitch_tracks


@dataclass(frozen=True)
class CpuTrackerOptions:
    max_people: int = 0  # 0 = all; else the people seen in most frames
    focal_px: float = 0.0  # px, the video's focal length where the user gives it; 0 = max(H, W) (default_focal_px)
    max_gap: int = 8  # frames of a gap within a shot filled with predicted rows
    min_track_frames: int = 5  # shorter confirmed tracks are dropped as noise
    stitch_max_distance: float = 0.4  # mean-appearance distance joining disjoint tracks (negative: never)
    scan_every: int = 2  # HOG looks for new people on every n-th frame (and a shot's first); else tracks only
    max_part_share: float = 0.5  # a track whose box is a part of other people's in this share of its frames goes
    association: AssociationOptions = AssociationOptions()
    revisit: RevisitOptions = RevisitOptions()  # the gaps and ends of finished tracks looked at again


class CpuTracker:
    def __init__(self, body_model, detector: PeopleDetector | None = None):
        self.body_model = body_model
        self.detector = detector or PeopleDetector()

    def run(self, video: Path, out: Path, options: CpuTrackerOptions, progress: Progress,
            info: VideoInfo | None = None) -> dict:
        """`info`: the job's probe of `video` (probed here when None); the frames decoded here are the truth."""
        info = info or probe_video(video)
        require_trackable(video, info)
        frame_shot = np.zeros(info.num_frames, dtype=np.int32)  # final for every frame handed out so far
        cutter = ShotCutter(info.fps, (info.width, info.height))
        associator = Associator(options.association)
        track_progress = scaled(progress, 0.0, 0.85)
        decoded = 0
        for index, shot, frame in frames_with_shots(iter_frames(video, stop=info.num_frames), cutter):
            decoded = index + 1
            frame_shot[index:] = shot
            expected = associator.predicted_boxes(index, shot, options.association.max_age)
            detections = self.detector.detect(frame, expected,
                                              scan=is_scan_frame(index, frame_shot, options.scan_every))
            associator.update(index, shot, frame, detections)
            track_progress((index + 1) / info.num_frames, f"frame {index + 1}/{info.num_frames}: "
                                                           f"{len(detections.boxes_xyxy)} people")
        if decoded < info.num_frames:  # the container promised more frames than it holds
            info, frame_shot = replace(info, num_frames=decoded), frame_shot[:decoded]
        tracks = stitch_tracks(associator.confirmed_tracks(), options.stitch_max_distance)
        tracks = [t for t in tracks if len(t.observations) >= options.min_track_frames]
        tracks = drop_part_tracks(tracks, (info.height, info.width), self.detector, options.max_part_share)
        tracks.sort(key=lambda t: -len(t.observations))
        if options.max_people:
            tracks = tracks[: options.max_people]
        progress(0.85, "revisiting the gaps and ends of the tracks")
        revisited = revisit_tracks(tracks, video, frame_shot, self.detector, options.revisit)
        tracks.sort(key=lambda t: t.observations[0].frame_index)
        focal = options.focal_px or default_focal_px(info.height, info.width)
        rows, keypoints = _rows(tracks, frame_shot, info, options.max_gap, focal)
        if len(rows["person_id"]):
            progress(0.9, "fitting initial 3D bodies")
            rows.update(fit_initial_bodies(rows, keypoints, self.body_model, scaled(progress, 0.9, 0.99)))
        else:
            rows.update({"global_orient": np.zeros((0, 3)), "body_pose": np.zeros((0, 69)),
                         "betas": np.zeros((0, 10)), "transl": np.zeros((0, 3))})
        rows.update({"source": "cpu", "image_size": [info.height, info.width], "fps": info.fps,
                     "num_frames": info.num_frames, "frame_shot_id": frame_shot, "mask_source": "segmentation",
                     "focal_source": "given" if options.focal_px else "assumed"})
        save_tracklets(out, rows)
        progress(1.0, f"{len(tracks)} people, {int(frame_shot.max()) + 1} shots")
        return {"people": len(tracks), "shots": int(frame_shot.max()) + 1, "rows": int(len(rows["person_id"])),
                "revisited_gap_rows": revisited.gap_rows, "revisited_end_rows": revisited.end_rows}


def drop_part_tracks(tracks: list[Track], image_hw: tuple[int, int], detector: PeopleDetector,
                     max_share: float) -> list[Track]:
    """Tracks without those whose box is a part of the other tracks' boxes of the same frame
    (detector.is_part_of_found: a lap, hands on an instrument) in more than `max_share` of their frames; the
    detector refuses such boxes only when it verified the whole people first."""
    boxes_at: dict[int, list[tuple[int, np.ndarray]]] = {}
    for k, track in enumerate(tracks):
        for o in track.observations:
            boxes_at.setdefault(o.frame_index, []).append((k, o.box))
    kept = []
    for k, track in enumerate(tracks):
        parts = 0
        for o in track.observations:
            others = np.array([box for j, box in boxes_at[o.frame_index] if j != k]).reshape(-1, 4)
            parts += bool(len(others)) and is_part_of_found(o.box, others, image_hw, detector.part_coverage,
                                                            detector.part_height)
        if parts <= max_share * len(track.observations):
            kept.append(track)
    return kept


def is_scan_frame(index: int, frame_shot: np.ndarray, every: int) -> bool:
    """HOG runs on the first frame of each shot and on every `every`-th frame (every <= 1: all frames)."""
    return every <= 1 or index == 0 or frame_shot[index] != frame_shot[index - 1] or index % every == 0


def _rows(tracks: list[Track], frame_shot: np.ndarray, info, max_gap: int, focal_px: float) -> tuple[dict, np.ndarray]:
    """Observed rows per track plus interpolated predicted rows for gaps of <= max_gap frames within a shot; every
    row's camera has `focal_px` (px) and the image centre."""
    columns: dict[str, list] = {k: [] for k in ("person_id", "frame_index", "observed", "bbox_xyxy", "det_conf",
                                               "mask_rle")}
    keypoints: list[np.ndarray] = []
    for person_id, track in enumerate(tracks):
        observations = track.observations
        for a, b in zip(observations, [*observations[1:], None], strict=True):
            _append(columns, keypoints, person_id, a.frame_index, True, a.box, a.confidence, a.mask_rle, a.keypoints)
            if b is None or b.frame_index - a.frame_index - 1 > max_gap:
                continue
            if frame_shot[a.frame_index] != frame_shot[b.frame_index]:
                continue
            for f in range(a.frame_index + 1, b.frame_index):
                t = (f - a.frame_index) / (b.frame_index - a.frame_index)
                box = (1 - t) * a.box + t * b.box
                _append(columns, keypoints, person_id, f, False, box, 0.0, "", np.zeros((25, 3), np.float32))
    frame_index = np.asarray(columns["frame_index"], dtype=np.int32)
    count = len(frame_index)
    rows = {
        "person_id": np.asarray(columns["person_id"], dtype=np.int32), "frame_index": frame_index,
        "time_s": frame_index / info.fps, "shot_id": frame_shot[frame_index] if count else np.zeros(0, np.int32),
        "observed": np.asarray(columns["observed"], dtype=bool),
        "bbox_xyxy": np.asarray(columns["bbox_xyxy"], dtype=np.float32).reshape(count, 4),
        "det_conf": np.asarray(columns["det_conf"], dtype=np.float32),
        "mask_rle": np.asarray(columns["mask_rle"], dtype=str) if count else np.zeros(0, dtype="<U1"),
        "focal_px": np.full(count, focal_px, np.float32),
        "principal_px": np.tile(image_centre(info.height, info.width), (count, 1)).astype(np.float32),
        "image_size": np.array([info.height, info.width]),
    }
    return rows, np.asarray(keypoints, dtype=np.float32).reshape(count, 25, 3)


def _append(columns, keypoints, person_id, frame_index, observed, box, confidence, mask_rle, kp) -> None:
    columns["person_id"].append(person_id)
    columns["frame_index"].append(frame_index)
    columns["observed"].append(observed)
    columns["bbox_xyxy"].append(np.asarray(box, dtype=np.float32))
    columns["det_conf"].append(confidence)
    columns["mask_rle"].append(mask_rle)
    keypoints.append(kp)
