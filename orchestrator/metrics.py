"""The orchestrator's queue metrics in Prometheus text format at `http://<MSHOT_HOST>:<MSHOT_METRICS_PORT>/metrics`
(off when the port is 0), for dashboards and for autoscaling stages on queued work (k8s/README.md):

- mshot_jobs_running, mshot_jobs_queued: jobs running, and waiting for a running place (MSHOT_MAX_RUNNING_JOBS);
- mshot_stage_calls_in_flight{stage}, mshot_stage_queue_depth{stage}: calls a stage is running for this
  orchestrator, and calls waiting because the stage is busy;
- mshot_stage_demand{stage}: the two summed - the work the stage should be running now. An HPA target of
  `MSHOT_MAX_CONCURRENT_JOBS` per pod on it asks for as many pods as the waiting and running calls fill;
- mshot_store_writes_pending: job records not yet stored (above 0 for long: the store is out).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from orchestrator.jobs import JobBook
from orchestrator.runner import JobRunner

GAUGES = {
    "mshot_jobs_running": "Jobs running now.",
    "mshot_jobs_queued": "Jobs waiting for a running place (MSHOT_MAX_RUNNING_JOBS).",
    "mshot_stage_calls_in_flight": "Stage calls accepted by the stage and not finished.",
    "mshot_stage_queue_depth": "Stage calls waiting because the stage answered RESOURCE_EXHAUSTED (busy).",
    "mshot_stage_demand": "Stage calls in flight plus waiting: the work the stage should be running now.",
    "mshot_store_writes_pending": "Job records changed in memory and not yet stored.",
}


def render_metrics(runner: JobRunner, book: JobBook) -> str:
    running, queued = runner.counts()
    values: dict[str, list[tuple[str, float]]] = {name: [] for name in GAUGES}
    values["mshot_jobs_running"].append(("", running))
    values["mshot_jobs_queued"].append(("", queued))
    for stage, queue in runner.queues.items():
        depth, in_flight = queue.depth(), queue.in_flight
        label = f'{{stage="{stage}"}}'
        values["mshot_stage_calls_in_flight"].append((label, in_flight))
        values["mshot_stage_queue_depth"].append((label, depth))
        values["mshot_stage_demand"].append((label, in_flight + depth))
    values["mshot_store_writes_pending"].append(("", book.pending_writes()))
    lines = []
    for name, help_text in GAUGES.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{label} {value:g}" for label, value in values[name]]
    return "\n".join(lines) + "\n"


def serve_metrics(host: str, port: int, runner: JobRunner, book: JobBook) -> ThreadingHTTPServer:
    """Serve GET /metrics in a daemon thread; the server's `server_port` is the port bound (port 0: any free)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics is served here")
                return
            body = render_metrics(runner, book).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # scrapes every few seconds: not worth a log line each
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
