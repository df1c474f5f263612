"""`mshot run` (the whole pipeline on this machine) and the orchestrator client commands
`mshot submit / watch / get / cancel / list`."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

from mshot.config import DEVICES, env_str, orchestrator_address
from mshot.errors import FailedPrecondition, InvalidInput, MshotError, NotFound
from mshot.rpc.convert import device_enum
from mshot.v1 import common_pb2, dataset_pb2, keypoints_pb2, multishot_pb2, pipeline_pb2, tracking_pb2

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
    run.add_argument("--openpose-json", type=Path, default=None,
                     help="OpenPose BODY_25 output (folder or .zip of <frame>_keypoints.json) to use as the keypoints")
    run.add_argument("--verbose", action="store_true",
                     help="show every log line and third-party message on the console (default: in DIR/mshot.log)")
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
                                 ("get", "print a job as JSON; with --out, download its results", get_command),
                                 ("cancel", "cancel a job", cancel_command)):
        command = subparsers.add_parser(name, help=helptext)
        command.add_argument("job_id")
        command.add_argument("--addr", default=None, help=ADDR_HELP)
        command.set_defaults(func=func)
        if name == "get":
            command.add_argument("--out", type=Path, default=None,
                                 help="download every artifact into OUT/artifacts/ and unpack the dataset into OUT/")
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
    parser.add_argument("--focal-px", type=float, default=0.0,
                        help="the video's focal length in pixels of its frames, if known (calibration, lens, "
                             "metadata); default: max(H, W) is assumed. Depths and sizes follow it")


def job_options(args: argparse.Namespace) -> pipeline_pb2.JobOptions:
    device = device_enum(args.device)
    return pipeline_pb2.JobOptions(
        tracking=tracking_pb2.TrackingOptions(backend=args.tracking_backend, device=device, focal_px=args.focal_px),
        keypoints=keypoints_pb2.KeypointsOptions(backend=args.keypoints_backend, device=device),
        multishot=multishot_pb2.MultishotOptions(device=device, seed=args.seed),
        dataset=dataset_pb2.DatasetOptions(formats=args.formats, target_frames=args.target_frames),
    )


# -- mshot run ---------------------------------------------------------------------------------------
def run_command(args: argparse.Namespace) -> int:
    """Every stage on this machine; whatever stages finished is written to --out (artifacts/, dataset/,
    overlay.mp4, summary.txt/json, mshot.log), also when a later stage fails."""
    from mshot.cli.client import fetch_results, job_summary, rpc, upload_video, watch
    from mshot.cli.console import quiet_console
    from mshot.cli.local_cluster import LocalCluster
    from mshot.cli.run_overlay import RunOverlay
    from mshot.cli.summary import write_summary
    from mshot.geometry.camera import check_given_focal, default_focal_px
    from mshot.video import probe_video, require_trackable

    info = probe_video(args.video)  # a bad video or focal length fails here, before anything starts
    require_trackable(args.video, info)
    check_given_focal(args.focal_px, "--focal-px", info.height, info.width)
    body_model = _body_model(args)
    openpose = _openpose_source(args.openpose_json)
    store_location = args.store or env_str("MSHOT_STORE", ".mshot/store")
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in ("artifacts", "dataset"):  # results of an earlier run in this folder
        shutil.rmtree(args.out / stale, ignore_errors=True)
    with quiet_console(args.out / "mshot.log", args.verbose) as console:
        focal = (f"focal {args.focal_px:g} px given" if args.focal_px else
                 f"focal {default_focal_px(info.height, info.width):g} px assumed (max(H, W); --focal-px if known)")
        print(f"mshot run: {args.video} ({info.num_frames} frames, {info.width}x{info.height}, {info.fps:.1f} fps, "
              f"{focal}); log: {args.out / 'mshot.log'}", file=console, flush=True)
        settings = {"MSHOT_BODY_MODEL": str(body_model.resolve())}  # the stages' settings, over the environment's
        overlay = RunOverlay(args.video, args.out, body_model, console)
        with LocalCluster(args.registry, store_location, log_level="INFO", settings=settings) as cluster:
            stub = cluster.pipeline_stub()
            video = upload_video(stub, args.video)
            options = job_options(args)
            if openpose is not None:
                options.keypoints.openpose_json.CopyFrom(_put_openpose(cluster.store, openpose, cluster.scratch))
            job = rpc("submitting the job", stub.SubmitJob, pipeline_pb2.SubmitJobRequest(video=video, options=options))
            print(f"job {job.job_id}", file=console, flush=True)
            job = watch(stub, job.job_id, stream=console, on_job=lambda job: overlay.on_job(stub, job))
            paths = fetch_results(stub, job, args.out, overlay.downloaded)  # every finished stage's, failed job too
        summary = job_summary(job)
        paths.update(overlay.finish(paths))
        write_summary(args.out, summary, paths, body_model)
    if job.state != pipeline_pb2.JOB_STATE_SUCCEEDED:
        raise MshotError(f"job {job.job_id} {summary['state']}: {job.error}; the finished stages' results are in "
                         f"{args.out}/ (summary.txt)")
    print(f"results in {args.out}/ (summary.txt, overlay.mp4)", file=sys.stderr)
    return 0


def _body_model(args: argparse.Namespace) -> Path:
    body_model = args.body_model or (Path(env_str("MSHOT_BODY_MODEL")) if env_str("MSHOT_BODY_MODEL") else None)
    if body_model is None:
        raise FailedPrecondition("no body model: pass --body-model SMPL_NEUTRAL.pkl (or set MSHOT_BODY_MODEL); "
                                 "`mshot body make-model --out model.pkl` writes a generated stand-in for trials")
    if not body_model.is_file():
        raise NotFound(f"body model file not found: {body_model}")
    return body_model


def _openpose_source(path: Path | None) -> Path | None:
    """--openpose-json: a folder or a .zip holding OpenPose `*_keypoints.json` files, checked before the run."""
    if path is None:
        return None
    if not path.exists():
        raise NotFound(f"--openpose-json: {path} not found")
    if not (path.is_dir() or zipfile.is_zipfile(path)):
        raise InvalidInput(f"--openpose-json: {path} is neither a folder nor a .zip of OpenPose JSON files")
    return path


def _put_openpose(store, source: Path, scratch: Path) -> common_pb2.ArtifactRef:
    """The OpenPose output as a .zip artifact in the store (a folder is zipped first)."""
    from mshot.rpc.convert import ref_to_proto

    if source.is_dir():
        archive = scratch / "openpose_json.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for file in sorted(source.glob("*_keypoints.json")):
                out.write(file, file.name)
        source = archive
    return ref_to_proto(store.put_file(source, "application/zip"))


# -- client commands ---------------------------------------------------------------------------------
def _print_job(job: pipeline_pb2.Job) -> None:
    from mshot.cli.client import job_summary

    print(json.dumps(job_summary(job), indent=2))


def submit_command(args: argparse.Namespace) -> int:
    from mshot.cli.client import pipeline_stub, rpc, upload_video, watch
    from mshot.geometry.camera import check_given_focal

    check_given_focal(args.focal_px, "--focal-px")  # against the video's size: by the orchestrator
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
    from mshot.cli.client import fetch_results, pipeline_stub, rpc

    stub = pipeline_stub(orchestrator_address(args.addr))
    job = rpc("getting the job", stub.GetJob, pipeline_pb2.JobId(job_id=args.job_id))
    if args.out is None:
        _print_job(job)
        return 0
    if job.state != pipeline_pb2.JOB_STATE_SUCCEEDED:
        state = pipeline_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
        raise FailedPrecondition(f"job {job.job_id} is {state}, not succeeded: no results to download")
    paths = fetch_results(stub, job, args.out)
    print(f"{len(paths)} artifacts of job {job.job_id} in {args.out}/artifacts/", file=sys.stderr)
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


