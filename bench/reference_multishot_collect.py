"""Run by the multishot reference's own Python (numpy only): gathers its per-batch result pickles into one npz.

`python reference_multishot_collect.py RESULTS_DIR OUT.npz`. RESULTS_DIR holds the reference's `%05d.pkl` files
(one dict of arrays per batch of frames, in frame order). The pickles are the reference's own output, read here in
its environment, so nothing pickled crosses into mshot: bench/reference_multishot.py reads only OUT.npz.
Keys written (frames concatenated): global_orient (N, 3), body_pose (N, 69), betas (N, 10), camera_translation
(N, 3) metres, camera_rotation (N, 3, 3), projected_joints (N, 25, 2) px.
"""

import pickle
import sys
from pathlib import Path

import numpy as np

KEYS = ("global_orient", "body_pose", "betas", "camera_translation", "camera_rotation", "projected_joints")


def main(results_dir: str, out_path: str) -> int:
    files = sorted(Path(results_dir).glob("*.pkl"))
    if not files:
        print(f"no result files (*.pkl) in {results_dir}", file=sys.stderr)
        return 1
    batches = []
    for path in files:
        with open(path, "rb") as f:
            batches.append(pickle.load(f))
    missing = [k for k in KEYS if k not in batches[0]]
    if missing:
        print(f"result file {files[0]} lacks key(s) {missing}; has {sorted(batches[0])}", file=sys.stderr)
        return 1
    arrays = {k: np.concatenate([np.asarray(b[k], dtype=np.float64) for b in batches]) for k in KEYS}
    np.savez(out_path, **arrays)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: reference_multishot_collect.py RESULTS_DIR OUT.npz", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
