"""Keypoints that jump away from their own track (services/multishot/keypoint_spikes.py, FitProblem.leave_out),
against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.synth_multishot import SynthOptions, generate
from mshot.body.generate import write_generated_smpl_model
from mshot.body.model import BodyModel
from services.multishot.fit import FitOptions
from services.multishot.keypoint_spikes import temporal_spikes
from services.multishot.kinematics import SparseSmplJoints
from services.multishot.objective import FitProblem
from services.multishot.pose_prior import DiagonalGaussianPosePrior

ANKLE = 11  # BODY_25 RAnkle


def _track(ankle_xy) -> np.ndarray:
    """(M, 25, 3): every keypoint at (0, 0), seen, but the right ankle at the given (M, 2) positions."""
    keypoints = np.zeros((len(ankle_xy), 25, 3))
    keypoints[..., 2] = 1.0
    keypoints[:, ANKLE, :2] = ankle_xy
    return keypoints


def _spiked_rows(keypoints, runs=None, fraction=0.1, extent=100.0, factor=0.0, person=None):
    """The rows whose right ankle is a spike; factor 0: the extent bound alone (in a track of a few rows the
    typical distance is set by the spike itself)."""
    runs = np.zeros(len(keypoints), int) if runs is None else np.asarray(runs)
    person = np.zeros(len(keypoints), int) if person is None else np.asarray(person)
    spikes = temporal_spikes(keypoints, runs, person, np.full(len(keypoints), extent), fraction, 0.1, factor)
    assert not spikes[:, [j for j in range(25) if j != ANKLE]].any()
    return np.flatnonzero(spikes[:, ANKLE]).tolist()


def test_a_keypoint_30_px_off_its_track_is_a_spike_at_a_tenth_of_a_100_px_person():
    # x moves 40 px per frame; row 3 is 30 px low: its window (rows 1-5) has x 40..200 -> median 120 = its own x,
    # y (0, 0, 30, 0, 0) -> median 0: distance 30 > 0.1 * 100. Rows 2 and 4 see it in their windows, but as one
    # of five values it moves no median: distance 0.
    ankle = np.stack([np.arange(7) * 40.0, np.zeros(7)], axis=1)
    ankle[3, 1] = 30.0
    assert _spiked_rows(_track(ankle)) == [3]


def test_misses_in_every_other_frame_are_both_caught_and_the_good_row_between_them_is_not():
    # y = 0, 0, 60, 0, 60, 0, 0 (rows 2 and 4 missed by 60 px). Row 2: window (0, 0, 60, 0, 60) -> median 0,
    # distance 60; row 4: (60, 0, 60, 0, 0) -> 0, 60; row 3: (0, 60, 0, 60, 0) -> 0, distance 0.
    # (A three-row median would flag row 3 instead: (60, 0, 60) -> 60.)
    ankle = np.zeros((7, 2))
    ankle[[2, 4], 1] = 60.0
    assert _spiked_rows(_track(ankle)) == [2, 4]


def test_steady_motion_is_never_a_spike_and_a_turning_point_only_beyond_its_overshoot():
    fast = np.stack([np.arange(9) * 80.0, np.arange(9) * -50.0], axis=1)  # 94 px per frame, a straight line
    assert _spiked_rows(_track(fast)) == []
    turn = np.stack([np.zeros(5), [0.0, 10.0, 20.0, 10.0, 0.0]], axis=1)  # row 2: 20 against the median 10
    assert _spiked_rows(_track(turn), fraction=0.1) == []  # 10 px is not more than 0.1 * 100
    assert _spiked_rows(_track(turn), fraction=0.09) == [2]


def test_rows_near_a_track_end_a_cut_or_a_gap_and_keypoints_unseen_in_the_window_are_not_tested():
    ankle = np.zeros((7, 2))
    ankle[[0, 3, 6], 1] = 60.0  # rows 0 and 6 are track ends
    assert _spiked_rows(_track(ankle)) == [3]
    assert _spiked_rows(_track(ankle), runs=[0, 0, 0, 0, 1, 1, 1]) == []  # a cut after row 3
    unseen = _track(ankle)
    unseen[2, ANKLE, 2] = 0.05  # below min_confidence in row 3's window
    assert _spiked_rows(unseen) == []


def test_a_keypoint_noisy_throughout_its_track_is_a_spike_only_beyond_factor_times_its_typical_distance():
    # y = 0, 0, 20, 0, 20, 0, 20, 0, 0 and the miss 60 at row 4 instead: tested rows 2-6 have windows
    # row 2 (0, 0, 20, 0, 60) -> median 0, distance 20; row 3 (0, 20, 0, 60, 0) -> 0, 0; row 4 (20, 0, 60, 0, 20)
    # -> 20, 40; row 5 (0, 60, 0, 20, 0) -> 0, 0; row 6 (60, 0, 20, 0, 0) -> 0, 20. Typical (median of 20, 0, 40,
    # 0, 20) = 20 px: at factor 1.5 the bound is max(10, 30) = 30 px: only row 4 (40 px); at factor 2.5, 50 px:
    # none. Person 1, steady, has typical distance 0: its own 30 px miss is caught at the extent bound alone.
    noisy = np.stack([np.zeros(9), [0.0, 0.0, 20.0, 0.0, 60.0, 0.0, 20.0, 0.0, 0.0]], axis=1)
    steady = np.zeros((7, 2))
    steady[3, 1] = 30.0
    keypoints = _track(np.concatenate([noisy, steady]))
    runs, person = [0] * 9 + [1] * 7, [0] * 9 + [1] * 7
    assert _spiked_rows(keypoints, runs, factor=1.5, person=person) == [4, 12]
    assert _spiked_rows(keypoints, runs, factor=2.5, person=person) == [12]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return BodyModel.from_file(write_generated_smpl_model(tmp_path_factory.mktemp("m") / "model.pkl"))


def test_leave_out_switches_off_only_the_marked_keypoints_that_the_fit_uses(model):
    data = generate(model, SynthOptions(frames=4, shots=1, dropout=0.0, outlier_fraction=0.0, invalid_fraction=0.0,
                                        occluded_legs_shot=-1))
    keypoints = data["keypoints"].copy()
    keypoints[1, ANKLE, 2] = 0.0  # unseen: nothing to switch off
    marked = np.zeros((4, 25), bool)
    marked[1, [ANKLE, ANKLE + 1]] = True
    marked[2, ANKLE] = True
    problem = FitProblem(data["tracklets"], keypoints, SparseSmplJoints.from_body_model(model),
                         DiagonalGaussianPosePrior(), FitOptions(device="cpu"), torch.device("cpu"))
    assert problem.leave_out(marked) == 2
    off = np.argwhere(problem.confidence_mask.numpy() == 0).tolist()
    assert off == [[1, ANKLE + 1], [2, ANKLE]]
