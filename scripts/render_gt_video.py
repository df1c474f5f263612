"""Render a ground-truth video: Anny people on a paved plaza, seen in several shots whose camera cuts change
viewpoint, distance, height and focal length (scripts/gt_video/scenes.py: `plaza` = tests/data/gt_video, four
people walking, passing each other and pillars; `standing` = tests/data/gt_video2, a child, a tall man and a woman
standing, turning and walking). Writes OUT/<stem>.mp4 (640x360, mp4v) and OUT/<stem>.npz (`mshot.gt-video/1`,
exact ground truth: bench/ground_truth.py, OUT/README.md).

Runs in its own environment (anny, pyrender, OSMesa; see tests/data/gt_video/README.md for the exact command):
    ANNY_CACHE_DIR=/work/cache/anny PYOPENGL_PLATFORM=osmesa PYTHONPATH=. \\
        /work/venvs/render/bin/python scripts/render_gt_video.py [--scene plaza|standing]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

from gt_video.people import body25_from_coco, clothes_colours, gait_pose, walk_positions  # noqa: E402
from gt_video.scene import Camera, build_set, look_at  # noqa: E402
from gt_video.scenes import SCENES, Shot, VideoScene  # noqa: E402

WIDTH, HEIGHT = 640, 360


def shot_cameras(shots: tuple[Shot, ...], frames: int, people_xy: np.ndarray) -> tuple[np.ndarray, list[Camera]]:
    """people_xy (P, F, 2) -> per frame: shot id and camera. Each shot's eye is fixed; its aim follows the centroid
    of the people it frames, damped."""
    starts = [s.first_frame for s in shots if s.first_frame < frames]
    frame_shot = np.searchsorted(starts, np.arange(frames), side="right") - 1
    cameras = []
    for f in range(frames):
        shot = shots[frame_shot[f]]
        group_xy = people_xy[list(shot.framed)].mean(axis=0)
        last = starts[frame_shot[f] + 1] - 1 if frame_shot[f] + 1 < len(starts) else frames - 1
        middle = group_xy[(shot.first_frame + last) // 2]
        a = np.radians(shot.azimuth_deg)
        eye = np.array([middle[0] + shot.distance_m * np.cos(a), middle[1] + shot.distance_m * np.sin(a),
                        shot.eye_height_m])
        aim = 0.7 * middle + 0.3 * group_xy[f]
        cameras.append(look_at(eye, np.array([aim[0], aim[1], shot.aim_height_m]), shot.focal_px,
                               np.array([WIDTH / 2, HEIGHT / 2])))
    return frame_shot.astype(np.int32), cameras


def animate_people(people: tuple, frames: int, fps: float, seed: int):
    """-> per person (F, V, 3) world vertices, (F, 25, 3) world BODY_25 joints, (V, 3) colours; faces (T, 3)."""
    import anny

    model = anny.Anny()
    regressor = anny.KeypointsRegressor.coco(model)
    times = np.arange(frames) / fps
    rng = np.random.default_rng(seed)
    bodies = []
    for person in people:
        out = model(pose_parameters=gait_pose(model, person, times), phenotype_kwargs=person.phenotype)
        vertices = out["vertices"].detach().numpy()
        joints = body25_from_coco(regressor(out).detach().numpy(), regressor.labels)
        floor = vertices[..., 2].min(axis=1)  # the lowest point of the body touches the ground
        vertices[..., 2] -= floor[:, None]
        joints[..., 2] -= floor[:, None]
        rest = model(phenotype_kwargs=person.phenotype)["vertices"][0].detach().numpy()
        bodies.append((vertices, joints, clothes_colours(model, person, rest, rng)))
    return bodies, model.get_triangular_faces().numpy()


def render(out_dir: Path, video: VideoScene, frames: int, fps: float, seed: int) -> None:
    import cv2
    import pyrender
    import trimesh

    from bench.ground_truth import MIN_VISIBLE_PX, save_ground_truth
    from mshot.artifacts.masks import encode_mask
    from mshot.geometry.camera import project

    started = time.perf_counter()
    bodies, faces = animate_people(video.people, frames, fps, seed)
    print(f"animated {len(bodies)} people in {time.perf_counter() - started:.1f} s", flush=True)
    people_xy = np.stack([walk_positions(p, np.arange(frames) / fps)[0] for p in video.people])
    frame_shot, cameras = shot_cameras(video.shots, frames, people_xy)
    scene = pyrender.Scene(bg_color=[0.75, 0.82, 0.9, 1.0], ambient_light=[0.35, 0.35, 0.38])
    pillars = build_set(scene, seed, video.pillars)
    renderer = pyrender.OffscreenRenderer(WIDTH, HEIGHT)
    out_dir.mkdir(parents=True, exist_ok=True)
    video_tmp = out_dir / f".{video.stem}.tmp.mp4"
    writer = cv2.VideoWriter(str(video_tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    rows: dict[str, list] = {k: [] for k in ("person_id", "frame_index", "bbox_xyxy", "mask_rle", "visible_fraction",
                                             "keypoints_body25", "joints3d_cam_body25")}
    camera_node = None
    for f in range(frames):
        camera = cameras[f]
        if camera_node is not None:
            scene.remove_node(camera_node)
        camera_node = scene.add(camera.pyrender_camera(), pose=camera.pyrender_pose())
        nodes = [scene.add(pyrender.Mesh.from_trimesh(
            trimesh.Trimesh(vertices[f], faces, vertex_colors=colours, process=False), smooth=True))
            for vertices, _, colours in bodies]
        colour, _ = renderer.render(scene)
        writer.write(cv2.cvtColor(colour, cv2.COLOR_RGB2BGR))
        seg_map = {node: (k + 1, 0, 0) for k, node in enumerate(nodes)} | {p: (255, 0, 0) for p in pillars}
        ids = renderer.render(scene, flags=pyrender.RenderFlags.SEG, seg_node_map=seg_map)[0][..., 0]
        for k, (node, (_, joints, _)) in enumerate(zip(nodes, bodies, strict=True)):
            visible = ids == k + 1
            if visible.sum() < MIN_VISIBLE_PX:
                continue
            alone = renderer.render(scene, flags=pyrender.RenderFlags.SEG, seg_node_map={node: (1, 0, 0)})[0][..., 0]
            joints_cam = joints[f] @ camera.world_to_cam[:3, :3].T + camera.world_to_cam[:3, 3]
            rows["person_id"].append(k)
            rows["frame_index"].append(f)
            rows["bbox_xyxy"].append(mask_box(visible))
            rows["mask_rle"].append(encode_mask(visible))
            rows["visible_fraction"].append(visible.sum() / max((alone > 0).sum(), 1))
            rows["keypoints_body25"].append(keypoints_with_visibility(
                project(joints_cam, camera.focal_px, camera.principal_px), joints_cam[:, 2], ids, k + 1))
            rows["joints3d_cam_body25"].append(joints_cam)
        for node in nodes:
            scene.remove_node(node)
        if f % 10 == 0:
            print(f"frame {f + 1}/{frames} shot {frame_shot[f]}: {int(sum(np.asarray(rows['frame_index']) == f))} "
                  f"people visible, {time.perf_counter() - started:.0f} s", flush=True)
    writer.release()
    renderer.delete()
    order = np.lexsort((rows["frame_index"], rows["person_id"]))
    arrays = {k: np.asarray(v)[order] for k, v in rows.items()}
    heights = [float(np.ptp(b[0][0][:, 2])) for b in bodies]  # standing height at frame 0 (mid-stride)
    save_ground_truth(out_dir / f"{video.stem}.npz", {
        **arrays, "image_size": np.array([HEIGHT, WIDTH]), "fps": fps, "num_frames": frames,
        "frame_shot_id": frame_shot, "camera_focal_px": np.array([c.focal_px for c in cameras]),
        "camera_principal_px": np.stack([c.principal_px for c in cameras]),
        "camera_world_to_cam": np.stack([c.world_to_cam for c in cameras]), "person_height_m": np.array(heights)})
    video_tmp.replace(out_dir / f"{video.stem}.mp4")
    print(f"wrote {out_dir}/{video.stem}.mp4 and .npz: {len(order)} person-frames, "
          f"{int(frame_shot.max()) + 1} shots, {time.perf_counter() - started:.0f} s")


def mask_box(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> (4,) x0, y0, x1, y1 px of its pixels, x1/y1 exclusive."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def keypoints_with_visibility(pixels: np.ndarray, depth: np.ndarray, ids: np.ndarray, own_id: int,
                              radius: int = 2) -> np.ndarray:
    """(25, 2) px -> (25, 3): visible (1) when in front of the camera, inside the image and the person's own
    pixels are within `radius` px (the joint is inside the body, so self-occlusion still counts as visible)."""
    height, width = ids.shape
    out = np.zeros((len(pixels), 3), np.float32)
    out[:, :2] = pixels
    for j, (x, y) in enumerate(pixels):
        if depth[j] <= 0 or not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            continue
        xi, yi = int(round(x)), int(round(y))
        window = ids[max(yi - radius, 0):yi + radius + 1, max(xi - radius, 0):xi + radius + 1]
        out[j, 2] = float((window == own_id).any())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", choices=sorted(SCENES), default="plaza",
                        help="which video (scripts/gt_video/scenes.py): plaza = gt_video, standing = gt_video2")
    parser.add_argument("--out", type=Path, default=None, help="default tests/data/<the scene's file stem>")
    parser.add_argument("--frames", type=int, default=None, help="default: the scene's")
    parser.add_argument("--fps", type=float, default=None, help="default: the scene's")
    parser.add_argument("--seed", type=int, default=None, help="default: the scene's")
    args = parser.parse_args()
    video = SCENES[args.scene]
    render(args.out or Path("tests/data") / video.stem, video, args.frames or video.frames, args.fps or video.fps,
           video.seed if args.seed is None else args.seed)


if __name__ == "__main__":
    main()
