"""Synthetic PHALP results in each release's layout, computed with PHALP's own camera math (read from
phalp/models/hmar/hmar.py `get_3d_parameters` and phalp/trackers/PHALP.py `get_human_features`), written
independently of the importer's camera.py so the tests can check one against the other."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as coco_mask

from mshot.geometry.rotations import axis_angle_to_matrix

FOCAL, RES = 5000.0, 256.0


def phalp_person(rng, tid, bbox_xywh, height, width, tracked_time=0):
    """One person's values as PHALP stores them (the master layout's keys; others drop some)."""
    x, y, w, h = bbox_xywh
    side = max(height, width)
    left, top = (side - width) // 2, (side - height) // 2
    ratio = RES / side
    center, scale = np.array([x + w / 2, y + h / 2]), np.array([w, h], float)
    cam_bbox = np.array([rng.uniform(0.7, 1.3), rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)])
    # get_3d_parameters: t = [tx, ty, 2 f / (s b)] in the 256 square, then xy += (c - 128) t_z / f
    center_256, box_256 = (center + [left, top]) * ratio, scale.max() * ratio
    tz = 2 * FOCAL / (cam_bbox[0] * box_256 + 1e-9)
    camera = np.array([cam_bbox[1] + (center_256[0] - RES / 2) * tz / FOCAL,
                       cam_bbox[2] + (center_256[1] - RES / 2) * tz / FOCAL, tz])
    joints = np.vstack([rng.normal(0, 0.4, (44, 3)), np.zeros((1, 3))])  # 44 SMPL joints + the appended zero
    p = joints + camera
    # perspective_projection with focal f / res and centre 0, then (x + 0.5) * res; stored divided by res
    joints_2d = (FOCAL / RES * p[:, :2] / p[:, 2:] + 0.5).reshape(-1)
    aa = rng.uniform(-1, 1, (24, 3))
    aa *= np.minimum(1.0, 2.5 / np.linalg.norm(aa, axis=1, keepdims=True))
    mask = np.zeros((height, width, 1), np.uint8, order="F")
    mask[int(y):int(y + h), int(x):int(x + w)] = 1
    rles = coco_mask.encode(mask)
    for rle in rles:
        rle["counts"] = rle["counts"].decode("utf-8")
    return {
        "tid": tid, "bbox": np.array(bbox_xywh, float), "tracked_time": tracked_time, "conf": np.float32(0.9),
        "center": center, "scale": scale, "size": [height, width], "mask": rles,
        "smpl": {"global_orient": axis_angle_to_matrix(aa[:1]).astype(np.float32),
                 "body_pose": axis_angle_to_matrix(aa[1:]).astype(np.float32),
                 "betas": rng.normal(0, 1, 10).astype(np.float32)},
        "camera": camera.astype(np.float32), "camera_bbox": cam_bbox.astype(np.float32),
        "3d_joints": joints.astype(np.float32), "2d_joints": joints_2d.astype(np.float32),
        "class_name": np.int64(0), "annotations": [], "extra_data": 0, "embedding": None, "mask_name": 1,
        "_aa": aa,
    }


LAYOUT_KEYS = {
    "master": ["center", "scale", "size", "img_path", "img_name", "class_name", "conf", "annotations", "smpl",
               "camera", "camera_bbox", "3d_joints", "2d_joints", "mask", "extra_data"],
    "pypi-0.1.3": ["center", "scale", "size", "img_path", "img_name", "mask_name", "conf", "smpl", "camera",
                   "3d_joints", "embedding", "mask"],
    "v1.1": ["center", "scale", "size", "img_path", "img_name", "mask_name", "conf", "smpl", "camera", "3d_joints",
             "embedding"],  # the v1.1 branch before Dec 2022: no masks
    "v1.1-head": ["center", "scale", "size", "img_path", "img_name", "class_name", "conf", "smpl", "camera",
                  "3d_joints", "embedding", "mask"],  # the v1.1 branch's head (20 Dec 2022)
}


def phalp_results(layout, tracks, height, width, num_frames, cuts=(), seed=0, embedding=None):
    """tracks: {tid: [(frame, (x, y, w, h), tracked_time), ...]} -> (results dict, {(tid, frame): person})."""
    rng = np.random.default_rng(seed)
    results, people = {}, {}
    for t in range(num_frames):
        path = f"outputs//_DEMO/clip/img/{t + 1:06d}.jpg"
        record = {"time": t, "shot": int(t in cuts)}
        if layout == "master":
            record["frame_path"] = path
        for key in ["tracked_ids", "tracked_bbox", "tid", "bbox", "tracked_time", *LAYOUT_KEYS[layout]]:
            record[key] = []
        for tid, visits in tracks.items():
            for frame, bbox, tracked_time in visits:
                if frame != t:
                    continue
                person = phalp_person(rng, tid, bbox, height, width, tracked_time)
                person["img_path"], person["img_name"] = path, path.split("/")[-1]
                if embedding is not None:
                    person["embedding"] = embedding()
                people[(tid, t)] = person
                for key in ["tid", "bbox", "tracked_time", *LAYOUT_KEYS[layout]]:
                    record[key].append(person[key])
                if tracked_time == 0:
                    record["tracked_ids"].append(tid)
                    record["tracked_bbox"].append(person["bbox"])
        results[path] = record
    return results, people
