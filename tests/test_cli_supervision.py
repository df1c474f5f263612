"""`mshot up` keeps its servers running (a child that exits is restarted, up to a cap) and `mshot watch` backs
off while the orchestrator is unreachable instead of spinning, giving up after its limit."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import grpc
import pytest

from mshot.cli.client import watch
from mshot.cli.server_commands import Restarts, supervise
from mshot.errors import Unavailable
from mshot.v1 import pipeline_pb2_grpc


class ShortLivedChildren:
    """Stands in for LocalProcesses: real child processes that exit with code 3 after `life_s`."""

    def __init__(self, life_s: float):
        self.life_s = life_s
        self.log_dir = None
        self.started: list[str] = []
        self.processes: dict[str, subprocess.Popen] = {}
        for component in ("tracking", "orchestrator"):
            self.start(component)

    def start(self, component: str) -> None:
        self.started.append(component)
        self.processes[component] = subprocess.Popen(
            [sys.executable, "-c", f"import sys, time; time.sleep({self.life_s}); sys.exit(3)"])


def test_up_restarts_a_child_that_exits_and_keeps_the_others():
    children = ShortLivedChildren(life_s=60)
    children.processes["tracking"].kill()
    stopping: list = []
    restarted = []

    def start(component):
        restarted.append(component)
        ShortLivedChildren.start(children, component)
        stopping.append(True)  # stop supervising once it restarted something

    children.start = start
    supervise(children, stopping, Restarts(limit=3, window_s=60), poll_s=0.05)
    assert restarted == ["tracking"]
    assert all(p.poll() is None for p in children.processes.values())  # the orchestrator was never touched
    for process in children.processes.values():
        process.kill()


def test_up_gives_up_on_a_child_that_keeps_crashing_after_its_restart_cap():
    children = ShortLivedChildren(life_s=0)
    with pytest.raises(Unavailable, match="after 2 restarts"):
        supervise(children, [], Restarts(limit=2, window_s=60), poll_s=0.05)
    assert max(children.started.count(c) for c in ("tracking", "orchestrator")) == 1 + 2  # first start + 2 restarts


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingStub:
    def __init__(self, stub):
        self.stub, self.calls = stub, 0

    def WatchJob(self, request):
        self.calls += 1
        return self.stub.WatchJob(request)


def test_watch_backs_off_while_the_orchestrator_is_down_and_gives_up_after_its_limit():
    stub = CountingStub(pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(f"127.0.0.1:{_closed_port()}")))
    started = time.monotonic()
    with pytest.raises(Unavailable, match="did not answer for 3 s"):
        watch(stub, "job-x", show_progress=False, unreachable_limit_s=3.0)
    assert 3.0 <= time.monotonic() - started < 15.0
    assert stub.calls <= 8  # 0.5, 1, 2, ... s apart: a handful of tries, not a spinning loop
