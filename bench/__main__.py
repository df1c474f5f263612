"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import sys

from bench import multishot, pipeline

if __name__ == "__main__":
    quick = "--quick" in sys.argv
    status = multishot.main(["--quick"] if quick else [])
    print()
    status |= pipeline.main([])
    sys.exit(status)
