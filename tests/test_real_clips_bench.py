"""bench.real_clips' verdicts: issue 12's people counts per clip and the 3 %-of-box-height reprojection target."""

from __future__ import annotations

from bench.real_clips import verdicts


def _person(person_id: int, fitted: int, box_fraction: float | None) -> dict:
    return {"person_id": person_id, "observed_frames": 40, "fitted_frames": fitted,
            "median_reprojection_px": None if box_fraction is None else 10.0,
            "median_reprojection_box_fraction": box_fraction}


def test_three_musicians_under_three_percent_meet_the_targets():
    assert verdicts("seated_3people", [_person(0, 250, 0.029), _person(1, 250, 0.03), _person(2, 40, 0.01)]) == []


def test_a_fourth_person_at_the_edge_may_count_but_a_fifth_may_not():
    four = [_person(i, 40, 0.02) for i in range(4)]
    assert verdicts("seated_3people", four) == []
    assert verdicts("seated_3people", [*four, _person(4, 40, 0.02)]) == ["5 people, expected 3-4"]


def test_a_person_over_three_percent_is_named_with_the_figure():
    assert verdicts("runner_1person", [_person(0, 180, 0.032)]) == ["person 0 at 3.2 %"]


def test_people_fitted_in_under_ten_frames_are_not_held_to_the_reprojection_target():
    assert verdicts("seated_1person", [_person(0, 9, 0.2)]) == []
    assert verdicts("seated_1person", []) == ["0 people, expected 1-1"]
