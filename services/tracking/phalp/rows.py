"""PHALP per-frame records -> one row per (person, frame), with every per-person value checked."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mshot.errors import InvalidInput
from services.tracking.phalp.layouts import PERSON_KEYS, Layout


def person_rows(records: list[dict], layout: Layout, what: str) -> dict[str, np.ndarray]:
    """Rows sorted by (person_id, frame_index): person_id, frame_index, observed, bbox_xyxy, det_conf,
    mask_rle (layouts with masks; '' on predicted rows), betas, transl, size_hw (M, 2), and the rotation
    matrices global_orient_R (M, 3, 3) and body_pose_R (M, 23, 3, 3)."""
    keys = [*PERSON_KEYS, *(["mask"] if layout.has_masks else [])]
    columns: dict[str, list] = {k: [] for k in ("person_id", "frame_index", "observed", "bbox_xyxy", "det_conf",
                                               "mask_rle", "betas", "transl", "size_hw", "global_orient_R",
                                               "body_pose_R")}
    for record in records:
        frame = int(record["time"])
        lists = {k: record.get(k, []) for k in keys}
        count = len(lists["tid"]) if isinstance(lists["tid"], (list, tuple)) else -1
        bad = [k for k, v in lists.items() if not isinstance(v, (list, tuple)) or len(v) != count]
        if bad:
            raise InvalidInput(f"{what}: frame {frame}: per-person lists {', '.join(bad)} do not match 'tid' "
                               f"({count} persons)")
        for i in range(count):
            where = f"{what}: frame {frame}, person {lists['tid'][i]!r}"
            _append(columns, frame, {k: v[i] for k, v in lists.items()}, where)
    order = np.lexsort((np.asarray(columns["frame_index"]), np.asarray(columns["person_id"])))
    shapes = {"bbox_xyxy": (4,), "betas": (10,), "transl": (3,), "size_hw": (2,), "global_orient_R": (3, 3),
              "body_pose_R": (23, 3, 3)}
    rows = {}
    for key, values in columns.items():
        if key == "mask_rle":
            continue
        array = np.asarray(values).reshape((len(values), *shapes.get(key, ())))
        rows[key] = array[order]
    if layout.has_masks:
        rows["mask_rle"] = np.asarray(columns["mask_rle"], dtype=str).reshape(-1)[order]
    return rows


def _append(columns: dict[str, list], frame: int, person: dict, where: str) -> None:
    tid, tracked_time = person["tid"], person["tracked_time"]
    if not isinstance(tid, (int, np.integer)) or isinstance(tid, bool):
        raise InvalidInput(f"{where}: 'tid' is {tid!r}, expected an integer track id")
    if not isinstance(tracked_time, (int, np.integer)) or tracked_time < 0:
        raise InvalidInput(f"{where}: 'tracked_time' is {tracked_time!r}, expected frames since detection >= 0")
    observed = int(tracked_time) == 0
    x, y, w, h = _floats(person["bbox"], (4,), "bbox", where)
    smpl = person["smpl"]
    if not isinstance(smpl, Mapping) or not {"global_orient", "body_pose", "betas"} <= set(smpl):
        raise InvalidInput(f"{where}: 'smpl' lacks global_orient, body_pose or betas")
    camera = _floats(person["camera"], (3,), "camera", where)
    if camera[2] <= 0:
        raise InvalidInput(f"{where}: 'camera' depth {camera[2]:.3g} m is not in front of the camera")
    columns["person_id"].append(int(tid))
    columns["frame_index"].append(frame)
    columns["observed"].append(observed)
    columns["bbox_xyxy"].append([x, y, x + w, y + h])
    columns["det_conf"].append(float(np.clip(_floats(person["conf"], (), "conf", where), 0, 1)) if observed else 0.0)
    columns["global_orient_R"].append(_floats(smpl["global_orient"], (1, 3, 3), "smpl.global_orient", where)[0])
    columns["body_pose_R"].append(_floats(smpl["body_pose"], (23, 3, 3), "smpl.body_pose", where))
    columns["betas"].append(_floats(smpl["betas"], (10,), "smpl.betas", where))
    columns["transl"].append(camera)
    columns["size_hw"].append(_floats(person["size"], (2,), "size", where).astype(int))
    if "mask" in person:
        columns["mask_rle"].append(_rle_counts(person["mask"], columns["size_hw"][-1], where) if observed else "")


def _floats(value, shape: tuple[int, ...], key: str, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: '{key}' is not numeric") from None
    if array.size != int(np.prod(shape)) or not np.all(np.isfinite(array)):
        raise InvalidInput(f"{where}: '{key}' has shape {array.shape} or non-finite values, expected {shape}")
    return array.reshape(shape)


def _rle_counts(mask, size_hw: np.ndarray, where: str) -> str:
    """PHALP's mask: a COCO RLE dict, or the one-element list pycocotools.encode returns for (H, W, 1)."""
    rle = mask[0] if isinstance(mask, (list, tuple)) and len(mask) == 1 else mask
    if not isinstance(rle, Mapping) or "counts" not in rle or "size" not in rle:
        raise InvalidInput(f"{where}: 'mask' is not a COCO RLE dict with size and counts")
    if [int(v) for v in rle["size"]] != [int(v) for v in size_hw]:
        raise InvalidInput(f"{where}: mask size {list(rle['size'])} differs from the image size {list(size_hw)}")
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    if not isinstance(counts, str):
        raise InvalidInput(f"{where}: 'mask' counts is not a compressed RLE string")
    return counts
