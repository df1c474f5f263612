"""The export formats, what each needs of a person's frames, and why a format is skipped for a person.

A format that trains on every image it is given gets only the training frames in its training set and the
held-out (validation) frames apart, so each needs at least one held-out frame; HumanNeRF needs 16 training frames
(its trainer starts by rendering `n // 16`-th frames: `core/data/create_dataset.py`, `skip = n // 16`, then
`framelist[::skip]` raises "slice step cannot be zero" below 16). Animation exports (bvh, gltf) and EasyMocap (a
fitting input, not a trainer) take every frame. A person below a format's minimum gets no folder for it; the
reason is in `person_NNN/formats.csv`, report.json and the summary instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from mshot.choices import DATASET_FORMATS


@dataclass(frozen=True)
class FrameMinimum:
    train: int  # training frames
    held_out: int  # validation frames


MINIMUMS = {
    "humannerf": FrameMinimum(16, 1),
    "neuralbody": FrameMinimum(1, 1),
    "neuralbody_monocular": FrameMinimum(1, 1),
    "easymocap": FrameMinimum(1, 0),
    "instantavatar": FrameMinimum(1, 1),  # per shot (one dataset per shot); GART reads the same folders
    "vid2avatar": FrameMinimum(1, 1),
    "bvh": FrameMinimum(1, 0),  # every fitted frame of the person, in time order
    "gltf": FrameMinimum(1, 0),
}
FORMATS = DATASET_FORMATS  # the one list of names (the option checks at the door read it without this module)
assert set(MINIMUMS) == set(FORMATS), "every export format has its frame minimum"
ANIMATION_FORMATS = ("bvh", "gltf")


def skip_reason(fmt: str, train: int, held_out: int) -> str:
    """Why `fmt` cannot be written for a person with `train` training and `held_out` validation frames; '' = it
    can. (Animation formats count fitted frames, passed as `train`.)"""
    need = MINIMUMS[fmt]
    if train >= need.train and held_out >= need.held_out:
        return ""
    what = "fitted" if fmt in ANIMATION_FORMATS else "training"
    return (f"{fmt} needs at least {need.train} {what} and {need.held_out} held-out frame(s); this person has "
            f"{train} and {held_out}")


def check_known(formats) -> list[str]:
    """The names in `formats` that are not export formats."""
    return [f for f in formats if f not in MINIMUMS]
