"""The rendered Kubernetes manifests (k8s/overlays/*) say what the deployment promises: every stage scales on its
own behind a headless Service, probes speak grpc.health.v1, pods outlive the servers' grace period, GPU stages ask
for GPUs, and secrets are referenced, never written into the manifests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mshot.config import DEFAULT_PORTS, STAGES

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = ("cpu", "gpu", "gpu-tls")
GPU_STAGES = ("tracking", "keypoints", "multishot")
SERVERS = (*STAGES, "orchestrator")

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed: it renders the kustomize overlays")


def render(overlay: str) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


def objects(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def server_container(deployment: dict) -> dict:
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "server"]
    return container


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def config_map(docs: list[dict]) -> dict[str, str]:
    return objects(docs, "ConfigMap")["mshot-config"]["data"]


def test_every_stage_has_deployment_service_hpa_and_pdb(rendered):
    _, docs = rendered
    for stage in STAGES:
        assert stage in objects(docs, "Deployment"), stage
        assert stage in objects(docs, "Service"), stage
        assert stage in objects(docs, "PodDisruptionBudget"), stage
        hpa = objects(docs, "HorizontalPodAutoscaler")[stage]
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": stage}
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"] >= 1
    for name in ("orchestrator", "minio"):
        assert name in objects(docs, "Service")
    assert "minio" in objects(docs, "StatefulSet")
    assert "create-bucket" in objects(docs, "Job")
    assert [ns["metadata"]["name"] for ns in docs if ns["kind"] == "Namespace"] == ["mshot"]


def test_stage_services_are_headless_and_match_the_orchestrator_targets(rendered):
    _, docs = rendered
    services = objects(docs, "Service")
    data = config_map(docs)
    for stage in STAGES:
        spec = services[stage]["spec"]
        assert spec["clusterIP"] == "None", f"{stage}: client-side round robin needs every pod address"
        assert [p["port"] for p in spec["ports"]] == [DEFAULT_PORTS[stage]]
        assert data[f"MSHOT_{stage.upper()}_ADDR"] == (
            f"dns:///{stage}.mshot.svc.cluster.local:{DEFAULT_PORTS[stage]}")


def test_probes_use_grpc_health_on_the_server_port(rendered):
    overlay, docs = rendered
    for name in SERVERS:
        container = server_container(objects(docs, "Deployment")[name])
        port = DEFAULT_PORTS[name]
        assert env_of(container)["MSHOT_PORT"]["value"] == str(port)
        assert [p["containerPort"] for p in container["ports"] if p["name"] == "grpc"] == [port]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container[probe]
            if overlay.endswith("tls"):  # kubelet's gRPC probe has no TLS: the image's `mshot health` client
                assert "grpc" not in spec
                assert "mshot health --addr" in spec["exec"]["command"][-1]
                assert "${MSHOT_PORT}" in spec["exec"]["command"][-1]
            else:
                assert spec["grpc"] == {"port": port}, f"{name} {probe}"


def test_termination_grace_exceeds_the_servers_grace_seconds(rendered):
    _, docs = rendered
    grace_seconds = float(config_map(docs)["MSHOT_GRACE_SECONDS"])
    for name in SERVERS:
        pod = objects(docs, "Deployment")[name]["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > grace_seconds, name


def test_servers_run_non_root_with_read_only_root_and_resources(rendered):
    _, docs = rendered
    for name in SERVERS:
        pod = objects(docs, "Deployment")[name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        container = server_container(objects(docs, "Deployment")[name])
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/scratch", "/tmp"} <= mounts


def test_gpu_overlay_gives_gpu_stages_a_gpu_on_gpu_nodes_only():
    docs = render("gpu")
    deployments = objects(docs, "Deployment")
    for stage in GPU_STAGES:
        pod = deployments[stage]["spec"]["template"]["spec"]
        container = server_container(deployments[stage])
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "1", stage
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert env_of(container)["MSHOT_DEVICE"]["value"] == "cuda"
        assert container["image"].endswith(":gpu-0.1.0")
    for name in ("dataset", "orchestrator"):
        pod = deployments[name]["spec"]["template"]["spec"]
        assert "nvidia.com/gpu" not in server_container(deployments[name])["resources"]["limits"]
        assert "tolerations" not in pod
    assert env_of(server_container(deployments["tracking"]))["MSHOT_TRACKING_BACKEND"]["value"] == "phalp"
    assert env_of(server_container(deployments["keypoints"]))["MSHOT_KEYPOINTS_BACKEND"]["value"] == "openpose"


def test_cpu_overlay_asks_for_no_gpu_and_uses_cpu_backends():
    docs = render("cpu")
    deployments = objects(docs, "Deployment")
    for name in SERVERS:
        container = server_container(deployments[name])
        assert "nvidia.com/gpu" not in container["resources"]["limits"], name
        assert "tolerations" not in deployments[name]["spec"]["template"]["spec"]
    assert env_of(server_container(deployments["tracking"]))["MSHOT_TRACKING_BACKEND"]["value"] == "cpu"
    assert env_of(server_container(deployments["keypoints"]))["MSHOT_KEYPOINTS_BACKEND"]["value"] == "cpu"


def test_secrets_are_referenced_never_inlined(rendered):
    _, docs = rendered
    assert objects(docs, "Secret") == {}, "Secrets are created by the operator, not shipped in the manifests"
    secret_env = {"MSHOT_S3_ACCESS_KEY", "MSHOT_S3_SECRET_KEY", "MSHOT_AUTH_TOKEN", "MINIO_ROOT_USER",
                  "MINIO_ROOT_PASSWORD"}
    assert not secret_env & set(config_map(docs))
    referenced = set()
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for item in container.get("env", []):
                if item["name"] in secret_env:
                    assert "value" not in item, f"{doc['metadata']['name']}: {item['name']} has an inline value"
                    assert "secretKeyRef" in item["valueFrom"], item["name"]
                    referenced.add(item["name"])
    assert referenced == secret_env
    orchestrator_env = env_of(server_container(objects(docs, "Deployment")["orchestrator"]))
    assert orchestrator_env["MSHOT_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "mshot-auth", "key": "token", "optional": True}


def test_tls_overlay_mounts_the_tls_secret_and_points_mshot_at_it():
    docs = render("gpu-tls")
    for name in SERVERS:
        deployment = objects(docs, "Deployment")[name]
        container = server_container(deployment)
        env = env_of(container)
        assert env["MSHOT_TLS_CERT"]["value"] == "/etc/mshot/tls/tls.crt"
        assert env["MSHOT_TLS_KEY"]["value"] == "/etc/mshot/tls/tls.key"
        assert env["MSHOT_TLS_CA"]["value"] == "/etc/mshot/tls/ca.crt"
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] == "mshot-tls"
        assert {"name": "tls", "mountPath": "/etc/mshot/tls", "readOnly": True} in container["volumeMounts"]


def test_licensed_models_come_from_a_volume_mounted_read_only(rendered):
    _, docs = rendered
    model_path = config_map(docs)["MSHOT_BODY_MODEL"]
    for stage in STAGES:
        deployment = objects(docs, "Deployment")[stage]
        mounts = [m for m in server_container(deployment)["volumeMounts"] if m["name"] == "models"]
        assert mounts and all(m["readOnly"] for m in mounts), stage
        assert any(model_path.startswith(m["mountPath"] + "/") for m in mounts), stage
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert volumes["models"]["persistentVolumeClaim"] == {"claimName": "mshot-models", "readOnly": True}
