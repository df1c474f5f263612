"""`mshot run` (the whole pipeline on this machine) and the orchestrator client commands
`mshot submit / watch / get / cancel / list`."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from mshot.config import DEVICES, env_str, orchestrator_address
from mshot.errors import FailedPrecondition, MshotError, NotFound
from mshot.rpc.convert import device_enum
from mshot.v1 import dataset_pb2, keypoints_pb2, multishot_pb2, pipeline_pb2, tracking_pb2

ADDR_HELP = "orchestrator HOST:PORT (default: MSHOT_ORCHESTRATOR_ADDR, else 127.0.0.1:50050)"


def add_commands(subparsers, choices: Mapping[str, tuple[str, ...]]) -> None:
    """`choices`: the values the registered stages accept for tracking_backend, keypoints_backend and format
    (mshot.registry); an option missing there is left to the server to check."""
    run = subparsers.add_parser("run", help="run the whole pipeline on one video on this machine")
    run.add_argument("video", type=Path)
    run.add_argument("--out", type=Path, required=True, help="result folder")
    run.add_argument("--body-model", type=Path, default=None,
                     help="SMPL model file (.pkl/.npz); default MSHOT_BODY_MODEL")
    run.add_argument("--store", default=None, help="artifact store folder (default MSHOT_STORE or .mshot/store)")
    _add_job_options(run, choices)
    run.set_defaults(func=run_command)

    submit = subparsers.add_parser("submit", help="upload a video and submit a job to a running orchestrator")
    submit.add_argument("video", type=Path)
    submit.add_argument("--addr", default=None, help=ADDR_HELP)
    submit.add_argument("--request-id", default="", help="idempotency key (default: derived from video + options)")
    submit.add_argument("--watch", action="store_true", help="follow the job until it ends")
    _add_job_options(submit, choices)
    submit.set_defaults(func=submit_command)

    for name, helptext, func in (("watch", "follow a job with progress bars", watch_command),
                                 ("get", "print a job as JSON", get_command),
                                 ("cancel", "cancel a job", cancel_command)):
        command = subparsers.add_parser(name, help=helptext)
        command.add_argument("job_id")
        command.add_argument("--addr", default=None, help=ADDR_HELP)
        command.set_defaults(func=func)
    listing = subparsers.add_parser("list", help="list recent jobs")
    listing.add_argument("--addr", default=None, help=ADDR_HELP)
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(func=list_command)


def _add_job_options(parser: argparse.ArgumentParser, choices: Mapping[str, tuple[str, ...]]) -> None:
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--tracking-backend", default="auto", choices=choices.get("tracking_backend"))
    parser.add_argument("--keypoints-backend", default="auto", choices=choices.get("keypoints_backend"))
    parser.add_argument("--format", dest="formats", action="append", default=[], choices=choices.get("format"),
                        help="dataset export format (repeatable; default all)")
    parser.add_argument("--target-frames", type=int, default=0, help="frames per person in the dataset (0: default)")
    parser.add_argument("--seed", type=int, default=0)


def job_options(args: argparse.Namespace) -> pipeline_pb2.JobOptions:
    device = device_enum(args.device)
    return pipeline_pb2.JobOptions(
        tracking=tracking_pb2.TrackingOptions(backend=args.tracking_backend, device=device),
        keypoints=keypoints_pb2.KeypointsOptions(backend=args.keypoints_backend, device=device),
        multishot=multishot_pb2.MultishotOptions(device=device, seed=args.seed),
        dataset=dataset_pb2.DatasetOptions(formats=args.formats, target_frames=args.target_frames),
    )


# -- mshot run ---------------------------------------------------------------------------------------
def run_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import fetch_results, job_summary, rpc, upload_video, watch
    from mshot.cli.local_cluster import LocalCluster
    from mshot.cli.summary import write_summary
    from mshot.video import probe_video, require_trackable

    info = probe_video(args.video)  # a bad video fails here, before anything starts
    require_trackable(args.video, info)
    body_model = args.body_model or (Path(env_str("MSHOT_BODY_MODEL")) if env_str("MSHOT_BODY_MODEL") else None)
    if body_model is None:
        raise FailedPrecondition("no body model: pass --body-model SMPL_NEUTRAL.pkl (or set MSHOT_BODY_MODEL); "
                                 "`mshot body make-model --out model.pkl` writes a generated stand-in for trials")
    if not body_model.is_file():
        raise NotFound(f"body model file not found: {body_model}")
    store_location = args.store or env_str("MSHOT_STORE", ".mshot/store")
    print(f"mshot run: {args.video} ({info.num_frames} frames, {info.width}x{info.height}, {info.fps:.1f} fps)",
          file=sys.stderr)
    settings = {"MSHOT_BODY_MODEL": str(body_model.resolve())}  # the stages' settings, over the environment's
    with LocalCluster(args.registry, store_location, settings=settings) as cluster:
        stub = cluster.pipeline_stub()
        video = upload_video(stub, args.video)
        job = rpc("submitting the job", stub.SubmitJob,
                  pipeline_pb2.SubmitJobRequest(video=video, options=job_options(args)))
        print(f"job {job.job_id}", file=sys.stderr)
        job = watch(stub, job.job_id)
        if args.out.exists():
            shutil.rmtree(args.out / "artifacts", ignore_errors=True)
        args.out.mkdir(parents=True, exist_ok=True)
        paths = fetch_results(cluster.store, job, args.out) if job.state == pipeline_pb2.JOB_STATE_SUCCEEDED else {}
        summary = job_summary(job)
        write_summary(args.out, summary, paths, body_model)
    if job.state != pipeline_pb2.JOB_STATE_SUCCEEDED:
        raise MshotError(f"job {job.job_id} {summary['state']}: {job.error}")
    print(f"results in {args.out}/ (summary.txt)", file=sys.stderr)
    return 0


# -- client commands ---------------------------------------------------------------------------------
def _print_job(job: pipeline_pb2.Job) -> None:
    from mshot.cli.client import job_summary

    print(json.dumps(job_summary(job), indent=2))


def submit_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import pipeline_stub, rpc, upload_video, watch

    stub = pipeline_stub(orchestrator_address(args.addr))
    video = upload_video(stub, args.video)
    job = rpc("submitting the job", stub.SubmitJob, pipeline_pb2.SubmitJobRequest(
        request_id=args.request_id, video=video, options=job_options(args)))
    print(job.job_id)
    if args.watch:
        job = watch(stub, job.job_id)
        _print_job(job)
        return 0 if job.state == pipeline_pb2.JOB_STATE_SUCCEEDED else 1
    return 0


def watch_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import pipeline_stub, rpc, watch

    stub = pipeline_stub(orchestrator_address(args.addr))
    rpc("looking up the job", stub.GetJob, pipeline_pb2.JobId(job_id=args.job_id))
    job = watch(stub, args.job_id)
    _print_job(job)
    return 0 if job.state == pipeline_pb2.JOB_STATE_SUCCEEDED else 1


def get_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import pipeline_stub, rpc

    stub = pipeline_stub(orchestrator_address(args.addr))
    _print_job(rpc("getting the job", stub.GetJob, pipeline_pb2.JobId(job_id=args.job_id)))
    return 0


def cancel_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import pipeline_stub, rpc

    stub = pipeline_stub(orchestrator_address(args.addr))
    _print_job(rpc("cancelling the job", stub.CancelJob, pipeline_pb2.JobId(job_id=args.job_id)))
    return 0


def list_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import job_summary, pipeline_stub, rpc

    stub = pipeline_stub(orchestrator_address(args.addr))
    response = rpc("listing jobs", stub.ListJobs, pipeline_pb2.ListJobsRequest(limit=args.limit))
    for job in response.jobs:
        summary = job_summary(job)
        print(f"{job.job_id}  {summary['state']:<10} {job.video.key[:19]}  {job.error}")
    return 0


