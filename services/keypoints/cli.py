"""`mshot import openpose DIR --out KEYPOINTS.npz [--tracklets TRACKLETS.npz]`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_import_commands(import_subparsers) -> None:
    command = import_subparsers.add_parser("openpose", help="OpenPose JSON folder (or .zip) to keypoints.npz")
    command.add_argument("source", type=Path, help="folder or .zip of <frame>_keypoints.json files")
    command.add_argument("--out", type=Path, required=True)
    command.add_argument("--tracklets", type=Path, default=None,
                         help="match the detections to these tracked persons (without: detections only)")
    command.set_defaults(func=import_openpose_command)


def import_openpose_command(args: argparse.Namespace) -> int:
    import numpy as np

    from mshot.artifacts.keypoints import save_keypoints
    from mshot.artifacts.tracklets import load_tracklets
    from services.keypoints.engine import write_keypoints
    from services.keypoints.openpose_import import read_openpose

    if args.tracklets is not None:
        tracklets = load_tracklets(args.tracklets)
        frames, keypoints = read_openpose(args.source, int(tracklets["num_frames"]))
        write_keypoints(args.out, tracklets, args.tracklets, frames, keypoints, "openpose-import")
        matched = int((np.load(args.out)["det_person_id"] >= 0).sum())
        print(f"wrote {args.out}: {len(frames)} detections, {matched} matched to tracked persons")
    else:
        frames, keypoints = read_openpose(args.source)
        empty = np.zeros(0, np.int32)
        save_keypoints(args.out, {
            "source": "openpose-import", "tracklets_sha256": "", "person_id": empty, "frame_index": empty,
            "keypoints_body25": np.zeros((0, 25, 3), np.float32), "match_score": np.zeros(0, np.float32),
            "det_frame_index": frames, "det_keypoints_body25": keypoints,
            "det_person_id": np.full(len(frames), -1, np.int32)})
        print(f"wrote {args.out}: {len(frames)} detections in {len(np.unique(frames))} frames (not matched)")
    return 0
