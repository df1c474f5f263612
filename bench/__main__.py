"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import sys

from bench import keypoints, multishot, pipeline, real_clips, tracking, video3d, webclip

if __name__ == "__main__":
    quick = "--quick" in sys.argv
    status = multishot.main(["--quick"] if quick else [])
    print()
    status |= pipeline.main([])
    print()
    status |= tracking.main([])
    print()
    status |= keypoints.main([])
    print()
    status |= video3d.main(["--max-frames", "40", "--no-dataset"] if quick else [])
    print()
    status |= real_clips.main(["--only", "seated_3people"] if quick else [])
    print()
    status |= webclip.main([])
    sys.exit(status)
