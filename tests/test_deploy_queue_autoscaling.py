"""Kubernetes can scale stages on queued work: the orchestrator serves its queue metrics on a named port, and the
opt-in component k8s/components/queue-autoscaling adds each stage's `mshot_stage_demand` to its HPA."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mshot.config import STAGES

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed: it renders the kustomize overlays")


def _render_with_component(tmp_path: Path, overlay: str) -> list[dict]:
    k8s = os.path.relpath(ROOT / "k8s", tmp_path)  # kustomize takes relative paths only
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - {k8s}/overlays/{overlay}\ncomponents:\n  - {k8s}/components/queue-autoscaling\n")
    out = subprocess.run(["kubectl", "kustomize", str(tmp_path)], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_queue_autoscaling_adds_each_stages_demand_metric_to_its_hpa_and_keeps_cpu(tmp_path, overlay):
    docs = _render_with_component(tmp_path, overlay)
    hpas = {d["metadata"]["name"]: d for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    for stage in STAGES:
        metrics = hpas[stage]["spec"]["metrics"]
        assert {m["type"] for m in metrics} == {"Resource", "External"}
        (external,) = [m["external"] for m in metrics if m["type"] == "External"]
        assert external["metric"] == {"name": "mshot_stage_demand", "selector": {"matchLabels": {"stage": stage}}}
    orchestrator = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "orchestrator")
    (container,) = orchestrator["spec"]["template"]["spec"]["containers"]
    assert {"name": "metrics", "containerPort": 9090} in container["ports"]
    assert {"name": "MSHOT_METRICS_PORT", "value": "9090"} in container["env"]
