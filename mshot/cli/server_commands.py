"""`mshot serve STAGE`, `mshot up`, `mshot health`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mshot.config import DEFAULT_PORTS, STAGES, OrchestratorConfig, ServerConfig, StoreConfig, env_str
from mshot.errors import FailedPrecondition, InvalidInput, Unavailable
from mshot.logs import setup_logging

COMPONENTS = (*STAGES, "orchestrator")


def add_commands(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run one stage server (or the orchestrator) until SIGTERM")
    serve.add_argument("component", nargs="?", choices=COMPONENTS, default=None,
                       help="what to serve (default: MSHOT_COMPONENT, as the images set it)")
    serve.set_defaults(func=serve_command)

    up = subparsers.add_parser("up", help="start every stage and the orchestrator as separate local processes")
    up.add_argument("--store", default=None, help="artifact store folder or s3://BUCKET (default: MSHOT_STORE)")
    up.add_argument("--base-port", type=int, default=DEFAULT_PORTS["orchestrator"],
                    help="orchestrator port; stages use the next four")
    up.set_defaults(func=up_command)

    health = subparsers.add_parser("health", help="exit 0 when the server at --addr reports SERVING")
    health.add_argument("--addr", required=True, help="HOST:PORT")
    health.add_argument("--service", default="", help="service name (default: the whole server)")
    health.add_argument("--timeout", type=float, default=3.0)
    health.set_defaults(func=health_command)


def serve_command(args: argparse.Namespace) -> int:
    from mshot.rpc.bootstrap import start_stage_server
    from mshot.store import open_store

    component = args.component or env_str("MSHOT_COMPONENT")
    if component not in COMPONENTS:
        raise InvalidInput(f"name what to serve: one of {', '.join(COMPONENTS)} (or set MSHOT_COMPONENT)")
    setup_logging(component)
    config = ServerConfig.from_env(component)
    registry = args.registry
    if component == "orchestrator":
        start_orchestrator = registry.orchestrator()
        store = open_store(StoreConfig.from_env())
        scratch = Path(config.scratch or "/tmp/mshot-orchestrator")
        server = start_orchestrator(config, OrchestratorConfig.from_env(), store, scratch)
    else:
        service = registry.stage(component)
        server = start_stage_server(service, config, open_store(StoreConfig.from_env()))
    server.install_signal_handlers()
    print(f"{component} serving on {config.host}:{server.port}", file=sys.stderr, flush=True)
    server.wait()
    return 0


def health_command(args: argparse.Namespace) -> int:
    from mshot.rpc.client import channel_from_config, health_status

    channel = channel_from_config(args.addr, ServerConfig.from_env("orchestrator"))
    status = health_status(channel, args.service, args.timeout)
    print(status)
    return 0 if status == "SERVING" else 1


def wait_serving(addr: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    from mshot.rpc.client import channel_from_config, health_status

    channel = channel_from_config(addr, ServerConfig.from_env("orchestrator"))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise FailedPrecondition(f"server for {addr} exited with code {process.returncode} while starting")
        if health_status(channel, timeout_s=1.0) == "SERVING":
            channel.close()
            return
        time.sleep(0.2)
    channel.close()
    raise Unavailable(f"server at {addr} did not report SERVING within {timeout_s:.0f} s")


class LocalProcesses:
    """Every stage and the orchestrator as `mshot serve` child processes on loopback ports."""

    def __init__(self, store: str, base_port: int, extra_env: dict[str, str] | None = None,
                 log_dir: Path | None = None, entry_module: str = "mshot_main"):
        """`entry_module`: the program's entry module (`python -m ENTRY serve COMPONENT` starts a child)."""
        self.ports = {"orchestrator": base_port, **{stage: base_port + 1 + i for i, stage in enumerate(STAGES)}}
        self.env = {**os.environ, **(extra_env or {}), "MSHOT_STORE": store}
        for stage in STAGES:
            self.env[f"MSHOT_{stage.upper()}_ADDR"] = f"127.0.0.1:{self.ports[stage]}"
        self.log_dir = log_dir
        self.entry_module = entry_module
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def orchestrator_addr(self) -> str:
        return f"127.0.0.1:{self.ports['orchestrator']}"

    def start(self, component: str, wait_s: float = 600.0) -> None:
        log = open(self.log_dir / f"{component}.log", "ab") if self.log_dir else None  # noqa: SIM115 - child's
        self.processes[component] = subprocess.Popen(
            [sys.executable, "-m", self.entry_module, "serve", component],
            env={**self.env, "MSHOT_PORT": str(self.ports[component])}, stdout=log, stderr=log)
        if log:
            log.close()
        wait_serving(f"127.0.0.1:{self.ports[component]}", wait_s, self.processes[component])

    def start_all(self) -> None:
        try:
            for component in (*STAGES, "orchestrator"):
                self.start(component)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout_s: float = 40.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in self.processes.values():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def up_command(args: argparse.Namespace) -> int:
    store = args.store or StoreConfig.from_env().location
    log_dir = Path(".mshot/logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    local = LocalProcesses(store, args.base_port, log_dir=log_dir, entry_module=args.registry.entry_module)
    local.start_all()
    print(f"mshot up: orchestrator at {local.orchestrator_addr}, "
          f"stages on ports {args.base_port + 1}-{args.base_port + 4}, store {store}, "
          f"logs in {log_dir}/. Ctrl-C stops everything.", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(p.poll() is None for p in local.processes.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    dead = [name for name, p in local.processes.items() if p.poll() is not None]
    local.stop()
    if dead and not stopping:
        raise Unavailable(f"{', '.join(dead)} exited unexpectedly; see {log_dir}/")
    return 0
