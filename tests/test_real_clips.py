"""The tracking and keypoints stages (CPU backends, real engines) on the shared real clips
(../shared/real_clips/, MIT): the first frames of the runner and the concert, a portrait odd-sized reframing,
a close-up in which the person is larger than the frame and the runner cut off at the hips by the frame edge
(scripts/real_footage.py). Each runs without an internal error, finds its people - one track per person - and
gets keypoints matched to them; the concert's real OpenPose JSON is matched to the tracked musicians.
Skipped where the clips are not beside the repository."""

from __future__ import annotations

import numpy as np
import pytest

from mshot.artifacts.keypoints import load_keypoints
from mshot.artifacts.tracklets import load_tracklets
from scripts import real_footage

FRAMES = 6
pytestmark = pytest.mark.skipif(not real_footage.REAL_CLIPS.is_dir(),
                                reason=f"{real_footage.REAL_CLIPS} not present (the shared real clips)")
# clip -> (fewest, most) people tracked in its first FRAMES frames. seated_3people: the left and centre
# musicians always; the third, mostly hidden behind a tanpura at the right edge, and a head in the audience at
# the bottom left may or may not be confirmed in so few frames. seated_1person itself is covered by its two
# reframings (a 1080p clip costs twice their time).
EXPECTED_PEOPLE = {"runner_1person": (1, 1), "seated_3people": (2, 4), "portrait_odd": (1, 1),
                   "closeup_cut_off": (1, 1), "runner_cut_waist": (1, 1)}


@pytest.fixture(scope="module")
def engines(smpl_model_path):
    from services.keypoints.engine import KeypointsEngine, KeypointsSettings
    from services.tracking.engine import TrackingEngine, TrackingSettings

    return (TrackingEngine(TrackingSettings(backend="cpu", body_model=str(smpl_model_path))),
            KeypointsEngine(KeypointsSettings(backend="cpu")))


def _clip(name: str, folder):
    if name in ("portrait_odd", "closeup_cut_off", "runner_cut_waist"):
        return getattr(real_footage, name)(folder, FRAMES)
    return real_footage.first_frames(folder, name, FRAMES)


@pytest.fixture(scope="module")
def tracked(engines, tmp_path_factory):
    """name -> (video, tracklets path), each clip tracked once."""
    from services.tracking.engine import TrackingOptions

    done = {}

    def track(name: str):
        if name not in done:
            folder = tmp_path_factory.mktemp(name)
            video = _clip(name, folder)
            done[name] = video, engines[0].run({"video": video}, TrackingOptions(backend="cpu"), folder,
                                               lambda f, m="": None).outputs["tracklets"]
        return done[name]

    return track


@pytest.mark.parametrize("name", sorted(EXPECTED_PEOPLE))
def test_real_clip_runs_through_tracking_and_keypoints_with_one_track_per_person(name, engines, tracked, tmp_path):
    from services.keypoints.engine import KeypointsOptions

    keypoints = engines[1]
    video, tracklets_path = tracked(name)
    tracklets = load_tracklets(tracklets_path)
    people = np.unique(tracklets["person_id"])
    fewest, most = EXPECTED_PEOPLE[name]
    assert fewest <= len(people) <= most, f"{name}: {len(people)} people"
    for person in people:  # one track per person: never two boxes of one person id in a frame
        frames = tracklets["frame_index"][tracklets["person_id"] == person]
        assert len(frames) == len(np.unique(frames))
    out = keypoints.run({"video": video, "tracklets": tracklets_path}, KeypointsOptions(backend="cpu"), tmp_path,
                        lambda f, m="": None).outputs["keypoints"]
    matched = load_keypoints(out)["match_score"] > 0
    observed = tracklets["observed"].astype(bool)
    assert matched[observed].mean() >= 0.8, f"{name}: {matched[observed].mean():.2f} of observed rows matched"


def test_real_openpose_output_is_matched_to_the_tracked_musicians(engines, tracked, tmp_path):
    """The shared OpenPose BODY_25 JSON of the concert (its first FRAMES files) imported instead of a backend."""
    import zipfile

    from services.keypoints.engine import KeypointsOptions

    video, tracklets_path = tracked("seated_3people")
    first = tmp_path / "openpose_first.zip"
    with zipfile.ZipFile(real_footage.REAL_CLIPS / "seated_3people_openpose_json.zip") as shared, \
            zipfile.ZipFile(first, "w") as out:
        for name in sorted(n for n in shared.namelist() if n.endswith("_keypoints.json"))[:FRAMES]:
            out.writestr(name, shared.read(name))
    engine = engines[1]
    ran = engine.run({"video": video, "tracklets": tracklets_path, "openpose_json": first}, KeypointsOptions(),
                     tmp_path, lambda f, m="": None)
    out = ran.outputs["keypoints"]
    tracklets, keypoints = load_tracklets(tracklets_path), load_keypoints(out)
    observed = tracklets["observed"].astype(bool)
    matched = keypoints["match_score"] > 0
    shares = {int(p): float(matched[observed & (tracklets["person_id"] == p)].mean())
              for p in np.unique(tracklets["person_id"][observed])}
    # the left and centre musicians; the one cut off by the right edge (tracked since the mirrored look) is
    # matched in a third of her rows (2 of 6 here)
    assert sorted(shares.values())[-2] >= 0.8, shares
    assert ran.summary["openpose_frames"] == f"0-{FRAMES - 1}"
