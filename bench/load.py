"""Load: N different jobs submitted at once to the local system (`mshot up`: every stage and the orchestrator as
separate processes, default job slots), CPU backends: `python -m bench.load [--jobs 20] [--frames 10]`.

Each job is a different short clip of the sample video (`--frames` frames from one of 10 start frames, as
recorded or mirrored), so no two jobs share their idempotency key and in each the CPU tracker finds people.
Prints how many SUCCEEDED, the wall time from the first submit to the last job's end, and the longest queue
waits: a job's wait for a running place (MSHOT_MAX_RUNNING_JOBS) plus its stages' waits for busy stages
(StageStatus.queued_s). Not part of `make bench` (minutes on a small machine): `make bench-load`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent import futures
from pathlib import Path

import cv2
import grpc

from mshot.body.generate import write_generated_smpl_model
from mshot.cli.client import upload_video, watch
from mshot.cli.server_commands import LocalProcesses
from mshot.v1 import dataset_pb2, multishot_pb2, pipeline_pb2, pipeline_pb2_grpc
from mshot.video import iter_frames

SAMPLE = Path("data/sample/multishot_sample.mp4")


def write_clips(video: Path, out: Path, jobs: int, frames: int, step: int = 5, windows: int = 10) -> list[Path]:
    """`jobs` different clips of `frames` frames: `windows` start frames `step` apart (0, 5, ... 45: the sample's
    first shot and the start of its second, where the CPU tracker finds people in 10 frames), as recorded, then
    mirrored left-right; beyond 2 x `windows` jobs the windows shift by a frame."""
    all_frames = [frame for _, frame in iter_frames(video)]
    last_start = (windows - 1) * step + (jobs - 1) // (2 * windows)
    if len(all_frames) < last_start + frames:
        raise SystemExit(f"{video} has {len(all_frames)} frames, too few for these clips (make sample)")
    paths = []
    for k in range(jobs):
        start = (k % windows) * step + k // (2 * windows)
        path = out / f"clip{k:02d}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, all_frames[0].shape[1::-1])
        for frame in all_frames[start:start + frames]:
            writer.write(cv2.flip(frame, 1) if (k // windows) % 2 else frame)
        writer.release()
        paths.append(path)
    return paths


def job_options(max_iters: int) -> pipeline_pb2.JobOptions:
    """Small jobs: a short fit, one export format, no previews."""
    return pipeline_pb2.JobOptions(multishot=multishot_pb2.MultishotOptions(max_iters=max_iters),
                                   dataset=dataset_pb2.DatasetOptions(formats=["humannerf"], skip_previews=True))


def queue_waits(job: pipeline_pb2.Job) -> tuple[float, float]:
    """(total seconds the job waited in queues, longest single wait of one of its stages)."""
    stage_waits = [s.queued_s for s in job.stages]
    return job.queued_s + sum(stage_waits), max(stage_waits, default=0.0)


def run(args: argparse.Namespace, work: Path) -> int:
    clips = write_clips(args.video, work, args.jobs, args.frames)
    model = write_generated_smpl_model(work / "model.pkl")
    env = {"MSHOT_BODY_MODEL": str(model), "MSHOT_TRACKING_BACKEND": "cpu", "MSHOT_KEYPOINTS_BACKEND": "cpu",
           "MSHOT_DEVICE": "cpu", "MSHOT_SCRATCH": str(work / "scratch"), "PYOPENGL_PLATFORM": "osmesa"}
    local = LocalProcesses(str(work / "store"), args.base_port, env, work)
    local.start_all()
    try:
        stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(local.orchestrator_addr))
        refs = [upload_video(stub, clip) for clip in clips]
        options = job_options(args.max_iters)
        started = time.monotonic()
        with futures.ThreadPoolExecutor(len(refs)) as pool:
            submitted = list(pool.map(
                lambda ref: stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=ref, options=options)), refs))
            jobs = list(pool.map(lambda job: watch(stub, job.job_id, show_progress=False), submitted))
        wall = time.monotonic() - started
    finally:
        local.stop()
    succeeded = sum(job.state == pipeline_pb2.JOB_STATE_SUCCEEDED for job in jobs)
    waits = [queue_waits(job) for job in jobs]
    print(f"load benchmark: {args.jobs} different jobs at once ({args.frames}-frame clips of {args.video}), "
          f"mshot up with default slots, CPU backends, {os.cpu_count()} CPUs")
    print(f"succeeded       {succeeded}/{len(jobs)}")
    print(f"wall time       {wall:.1f} s (first submit to last job end)")
    print(f"longest wait    {max(w[0] for w in waits):.1f} s in queues for one job "
          f"(longest for one stage call: {max(w[1] for w in waits):.1f} s)")
    for job in jobs:
        if job.state != pipeline_pb2.JOB_STATE_SUCCEEDED:
            print(f"  {job.job_id}: {pipeline_pb2.JobState.Name(job.state)} {job.error}")
    return 0 if succeeded == len(jobs) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.load")
    parser.add_argument("--video", type=Path, default=SAMPLE)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--frames", type=int, default=10, help="frames per clip")
    parser.add_argument("--max-iters", type=int, default=20, help="multishot optimizer iterations per job")
    parser.add_argument("--base-port", type=int, default=51050)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep (logs, store)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory() as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
