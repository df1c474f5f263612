"""The CPU tracker's association (services/tracking/cpu/association.py) on hand-made boxes: which pairs the
Hungarian matching may choose from."""

from __future__ import annotations

import numpy as np

from services.tracking.cpu.association import AssociationOptions, Associator
from services.tracking.cpu.detector import Detections

RED, BLUE = (0, 0, 200), (200, 0, 0)  # BGR
HEIGHT_WIDTH = (600, 600)


def _frame(people) -> tuple[np.ndarray, Detections]:
    """people: list of (box [x0, y0, x1, y1] px, colour, x range of the coloured mask); the mask spans the box's
    rows over that x range, so boxes may overlap while each person's histogram is one colour."""
    frame = np.full((*HEIGHT_WIDTH, 3), 128, np.uint8)
    boxes, masks = [], []
    for box, colour, (mask_x0, mask_x1) in people:
        mask = np.zeros(HEIGHT_WIDTH, bool)
        mask[box[1]:box[3], mask_x0:mask_x1] = True
        frame[mask] = colour
        boxes.append(box)
        masks.append(mask)
    return frame, Detections(np.asarray(boxes, np.float32), np.ones(len(people), np.float32),
                             np.zeros((len(people), 25, 3), np.float32), np.asarray(masks))


def test_a_refused_pair_does_not_push_a_track_onto_the_other_person():
    """Frame 0: the singer (red, track 0) and a part of her boxed as a person (blue, track 1: her lap under a
    caption), boxes overlapping. Frame 1: the singer moved a little (20 px) and the musician beside her (also
    red) is found too. Costs: track 0 -> singer 0.14, -> musician 0.38; track 1 -> singer 0.62 (over max_cost
    0.6, refused), -> musician 0.90. Solving first and refusing afterwards chose 0.38 + 0.62 < 0.14 + 0.90:
    track 0 on the musician and the singer refused to track 1 (the web clip's second close-up, frame 154).
    Refused pairs are out of the solve: track 0 stays on the singer."""
    associator = Associator(AssociationOptions(n_init=1))
    singer, part = [200, 100, 400, 500], [260, 100, 460, 500]
    associator.update(0, 0, *_frame([(singer, RED, (200, 260)), (part, BLUE, (400, 460))]))
    singer_moved, musician = [220, 100, 420, 500], [100, 100, 300, 500]
    associator.update(1, 0, *_frame([(musician, RED, (100, 220)), (singer_moved, RED, (300, 420))]))
    last_box = {t.track_id: t.last.box.tolist() for t in associator.tracks if t.last.frame_index == 1}
    assert last_box[0] == singer_moved
    assert 1 not in last_box  # the part's only admissible detection was the singer's, which track 0 keeps
