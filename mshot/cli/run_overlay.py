"""The overlay.mp4 of `mshot run`, drawn while the dataset stage runs: as soon as the job's multishot stage is
done its tracklets and fits are downloaded and the overlay is rendered in a background thread (the dataset
stage and the overlay each keep a core busy). When multishot did not finish, the overlay is drawn after the job
from what there is (the tracklets alone: boxes). A failed overlay is reported as a line, never losing results."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from mshot.v1 import pipeline_pb2

OVERLAY_INPUTS = ("tracklets", "fits")


class RunOverlay:
    def __init__(self, video: Path, out: Path, body_model: Path, console):
        self.video, self.out, self.body_model, self.console = video, out, body_model, console
        self._thread: threading.Thread | None = None
        self._result: dict[str, Path] = {}
        self.downloaded: dict[str, Path] = {}  # the job's artifacts fetched for the overlay (name -> path)

    def on_job(self, stub, job: pipeline_pb2.Job) -> None:
        """A watch callback: start the overlay once the job's stages have made tracklets and fits."""
        if self._thread is not None:
            return
        made = {name for status in job.stages if status.state == pipeline_pb2.STAGE_STATE_DONE
                for name in status.result.artifacts}
        if not made.issuperset(OVERLAY_INPUTS):
            return
        from mshot.cli.client import download_artifact

        self.downloaded = {name: download_artifact(stub, job.job_id, name, self.out / "artifacts")
                           for name in OVERLAY_INPUTS}
        self._start(self.downloaded)

    def finish(self, paths: dict[str, Path]) -> dict[str, Path]:
        """{"overlay": path} once it is written (drawn now from `paths` if it was not started), else {}."""
        if self._thread is None:
            if "tracklets" not in paths:
                return {}
            self._start({name: paths[name] for name in OVERLAY_INPUTS if name in paths})
        self._thread.join()
        return self._result

    def _start(self, paths: dict[str, Path]) -> None:
        from mshot.artifacts.fits import load_fits
        from mshot.artifacts.tracklets import load_tracklets

        tracklets = load_tracklets(paths["tracklets"])
        fits = load_fits(paths["fits"]) if "fits" in paths else None
        self._thread = threading.Thread(target=self._draw, args=(tracklets, fits), name="overlay", daemon=True)
        self._thread.start()

    def _draw(self, tracklets: dict, fits: dict | None) -> None:
        from mshot.body.model import BodyModel
        from mshot.cli.overlay import write_overlay

        started = time.monotonic()
        try:
            out = write_overlay(self.video, tracklets, fits, BodyModel.from_file(self.body_model),
                                self.out / "overlay.mp4")
        except Exception as exc:  # noqa: BLE001 - rendering (OSMesa, codecs) failing must not lose the results
            logging.getLogger("mshot.cli").exception("overlay failed")
            print(f"{'overlay':<10} {'failed':<9} {'':7}  {type(exc).__name__}: {exc}"[:160], file=self.console,
                  flush=True)
            return
        print(f"{'overlay':<10} {'done':<9} {time.monotonic() - started:5.0f} s  {out}", file=self.console, flush=True)
        self._result = {"overlay": out}
