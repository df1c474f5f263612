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


MAX_RESTARTS = 5  # per child, within RESTART_WINDOW_S
RESTART_WINDOW_S = 600.0


class Restarts:
    """How often each child was restarted lately: at most `limit` restarts within `window_s` seconds."""

    def __init__(self, limit: int = MAX_RESTARTS, window_s: float = RESTART_WINDOW_S):
        self.limit, self.window_s = limit, window_s
        self._times: dict[str, list[float]] = {}

    def allow(self, component: str, now: float) -> bool:
        recent = [t for t in self._times.get(component, []) if now - t < self.window_s]
        self._times[component] = recent
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True


def supervise(local: LocalProcesses, stopping: list, restarts: Restarts, poll_s: float = 0.5) -> None:
    """Until `stopping` is set: restart any child that exited; Unavailable once one exceeds its restart cap."""
    while not stopping:
        for component, process in list(local.processes.items()):
            if process.poll() is None or stopping:
                continue
            if not restarts.allow(component, time.monotonic()):
                raise Unavailable(f"{component} exited with code {process.returncode} again after {restarts.limit} "
                                  f"restarts within {restarts.window_s:.0f} s; see its log in {local.log_dir}/")
            print(f"mshot up: {component} exited with code {process.returncode}; restarting it", file=sys.stderr,
                  flush=True)
            try:
                local.start(component)
            except (FailedPrecondition, Unavailable) as exc:
                print(f"mshot up: {component} did not come back: {exc.message}", file=sys.stderr, flush=True)
        time.sleep(poll_s)


def up_command(args: argparse.Namespace) -> int:
    store = args.store or StoreConfig.from_env().location
    log_dir = Path(".mshot/logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    local = LocalProcesses(store, args.base_port, log_dir=log_dir, entry_module=args.registry.entry_module)
    local.start_all()
    print(f"mshot up: orchestrator at {local.orchestrator_addr}, "
          f"stages on ports {args.base_port + 1}-{args.base_port + 4}, store {store}, "
          f"logs in {log_dir}/. A server that exits is restarted (at most {MAX_RESTARTS} times in "
          f"{RESTART_WINDOW_S / 60:.0f} minutes). Ctrl-C stops everything.", flush=True)
    stopping: list = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        supervise(local, stopping, Restarts())
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()
    return 0
