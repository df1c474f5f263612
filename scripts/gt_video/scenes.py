"""The ground-truth videos scripts/render_gt_video.py renders, by name: who is in them, how they move, and the
shots that film them. Both use the plaza set of scene.py (its textures seeded per video, pillars placed per video).

- `plaza` (tests/data/gt_video): four adults walking across the plaza, passing each other and the pillars; four
  shots at 6-10 m.
- `standing` (tests/data/gt_video2, a held-out check): a child, a tall man and a woman who stand, turn on the
  spot and walk; four shots from 3.6 to 13 m, low, eye-level and high cameras, long and short focal lengths, the
  woman partly outside the frame in shot 2."""

from __future__ import annotations

from dataclasses import dataclass

from gt_video.people import Person


@dataclass(frozen=True)
class Shot:
    first_frame: int
    azimuth_deg: float  # of the camera around the people it frames (0 = on +x of them, 90 = on +y)
    distance_m: float  # horizontal, from the framed people's centroid at the middle of the shot
    eye_height_m: float
    focal_px: float
    framed: tuple[int, ...]  # the people whose centroid the camera aims at
    aim_height_m: float = 0.95


@dataclass(frozen=True)
class VideoScene:
    stem: str  # file names: <stem>.mp4 and <stem>.npz
    frames: int
    fps: float
    seed: int  # textures and clothes variation
    shots: tuple[Shot, ...]
    people: tuple[Person, ...]
    pillars: tuple  # ((x, y, RGB colour), ...) world metres


PLAZA = VideoScene("gt_video", 120, 12.0, 7, (
    Shot(0, -90.0, 10.0, 1.7, 620.0, (0, 1, 2, 3)), Shot(34, 10.0, 6.5, 2.6, 720.0, (0, 1, 2, 3)),
    Shot(62, 150.0, 8.0, 4.5, 600.0, (0, 1, 2, 3)), Shot(92, -170.0, 7.5, 1.6, 600.0, (2, 3)),
), (
    Person({"gender": 0.9, "age": 0.6, "muscle": 0.6, "weight": 0.5, "height": 0.55}, ((-5.5, 0.6), (5.5, 0.6)),
           1.25, 0.0, (175, 35, 40), "plain", "long", (45, 60, 105), (30, 25, 25), (225, 185, 160), (40, 30, 20)),
    Person({"gender": 0.1, "age": 0.55, "muscle": 0.4, "weight": 0.45, "height": 0.5}, ((5.0, -0.6), (-5.0, -0.6)),
           1.1, 0.0, (30, 45, 95), "stripes", "short", (200, 180, 140), (235, 235, 235), (150, 105, 80),
           (25, 20, 15)),
    Person({"gender": 0.8, "age": 0.7, "muscle": 0.5, "weight": 0.7, "height": 0.45},
           ((-1.5, -4.0), (-1.0, 1.0), (3.5, 3.5)), 1.0, 0.5, (40, 120, 60), "checks", "long", (30, 30, 35),
           (90, 60, 40), (240, 200, 175), (130, 90, 50)),
    Person({"gender": 0.2, "age": 0.8, "muscle": 0.5, "weight": 0.55, "height": 0.45}, ((4.0, 3.5), (-3.0, 2.5)),
           0.9, 2.0, (215, 180, 40), "plain", "long", (110, 110, 115), (60, 35, 30), (95, 65, 50), (200, 200, 195)),
), ((-2.5, 1.6, (180, 180, 175)), (3.0, -2.6, (120, 110, 100)), (6.5, 3.0, (170, 160, 140))))

STANDING = VideoScene("gt_video2", 168, 12.0, 11, (
    Shot(0, -45.0, 6.0, 1.5, 560.0, (0, 1, 2)), Shot(40, 200.0, 13.0, 3.2, 820.0, (0, 1, 2)),
    Shot(84, -105.0, 5.0, 0.9, 560.0, (0, 1)), Shot(124, 120.0, 8.0, 6.0, 640.0, (0, 1, 2)),
), (
    # a child of about 8 (1.26 m) who walks a bent path, then stands
    Person({"gender": 0.6, "age": 0.27, "muscle": 0.5, "weight": 0.45, "height": 0.5},
           ((-2.5, -1.5), (0.0, -2.2), (1.5, 0.5)), 0.8, 1.0, (230, 120, 30), "stripes", "short", (40, 80, 150),
           (200, 30, 40), (235, 195, 170), (150, 100, 40), stride_m=0.9),
    # a man of about 2 m who stands, walks across, then turns round
    Person({"gender": 1.0, "age": 0.5, "muscle": 0.7, "weight": 0.55, "height": 0.93}, ((1.5, 2.0), (-2.5, 2.4)),
           1.2, 4.5, (70, 70, 75), "plain", "long", (150, 130, 100), (20, 20, 20), (120, 80, 60), (15, 10, 10),
           stride_m=1.6, turns=((9.5, 0.0), (11.5, 180.0))),
    # a woman (1.63 m) who stands turning on the spot, then takes a few steps
    Person({"gender": 0.0, "age": 0.45, "muscle": 0.4, "weight": 0.5, "height": 0.5}, ((0.8, -0.6), (2.3, 0.4)),
           0.9, 10.0, (160, 40, 120), "checks", "long", (25, 25, 30), (110, 60, 40), (200, 150, 120),
           (60, 35, 20), turns=((1.0, 0.0), (4.0, 120.0), (7.0, -60.0), (9.0, 0.0))),
), ((-3.0, 1.0, (180, 180, 175)), (-5.0, -3.5, (120, 110, 100)), (4.5, 4.0, (170, 160, 140))))

SCENES = {"plaza": PLAZA, "standing": STANDING}
