"""KubernetesProvider against a stand-in of the Kubernetes API server.

Stand-in: k8s_api.KubernetesAPI, a local HTTP server answering the core/v1 pod endpoints
with Pod, PodList and Status objects shaped as the Kubernetes API reference documents them,
and applying the documented create-time validation. No real API server can be installed
here (see k8s_api.py). The official kubernetes client loads a real kube config file, sends
every request and parses every reply itself; the pod bodies it sent are checked field by
field. Phases change as the kubelet would change them, by the test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import providers_made_by
from k8s_api import KubernetesAPI

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait.providers import JobState, SubmitException
from plait.providers.kubernetes.kube import KubernetesProvider

NS = "science"


@pytest.fixture
def api() -> Iterator[KubernetesAPI]:
    server = KubernetesAPI({"good-token": "alice", "viewer-token": "viewer"}, {NS, "default"})
    server.start()
    yield server
    server.stop()


def kube_config(path: Path, server: str, token: str) -> str:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster: {{server: "{server}"}}
users:
- name: tester
  user: {{token: {token}}}
contexts:
- name: standin
  context: {{cluster: standin, user: tester}}
current-context: standin
""")
    return str(path)


@pytest.fixture
def make(api: KubernetesAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("KUBECONFIG", kube_config(tmp_path / "kubeconfig", api.url,
                                                 "good-token"))

    def build(**kwargs: Any) -> KubernetesProvider:
        kwargs.setdefault("image", "python:3.12")
        kwargs.setdefault("namespace", NS)
        return KubernetesProvider(**kwargs)

    def leftovers(prov: KubernetesProvider) -> list[Any]:
        assert api.warnings == [], "pods with fields the Pod schema does not know"
        api.finish_deletions()
        return [k for k, p in api.pods.items()
                if p["metadata"]["labels"].get("plait-run") == prov.run_id]

    yield from providers_made_by(build, tmp_path / "submit_scripts", leftovers)


def test_submit_creates_the_pod_parsl_describes(make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in. The POSTed pod is checked field by field."""
    prov = make(max_cpu=4, max_mem="8Gi", init_cpu=2, init_mem="4Gi",
                extra_limits={"nvidia.com/gpu": "1"}, extra_requests={"ephemeral-storage": "1Gi"},
                worker_init="source /opt/env.sh", pod_name="Sim_Workers", user_id="1000",
                group_id="100", run_as_non_root=True, secret="registry-key",
                persistent_volumes=[("shared-data", "/data")], service_account_name="runner",
                annotations={"team": "climate"}, walltime="02:00:00", labels={"app": "sim"})
    name = prov.submit("process_worker_pool.py -a 10.0.0.1", 1, "plait.htex.block-0")

    [sent] = api.sent("POST", f"/api/v1/namespaces/{NS}/pods$")
    assert sent.headers["authorization"] == "Bearer good-token"
    pod = sent.body
    assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
    meta, spec = pod["metadata"], pod["spec"]
    assert meta["name"] == name and name.startswith("sim-workers-")
    assert meta["labels"] == {"app": "sim", "plait-run": prov.run_id,
                              "plait-provider": "kubernetes", "plait-job": name}
    assert meta["annotations"] == {"team": "climate"}
    assert spec["restartPolicy"] == "Never"
    assert spec["imagePullSecrets"] == [{"name": "registry-key"}]
    assert spec["serviceAccountName"] == "runner"
    assert spec["activeDeadlineSeconds"] == 7200
    assert spec["volumes"] == [{"name": "volume-0",
                                "persistentVolumeClaim": {"claimName": "shared-data"}}]
    [c] = spec["containers"]
    assert c["name"] == "worker" and c["image"] == "python:3.12"
    assert c["command"] == ["/bin/bash", "-c"]
    [script] = c["args"]
    assert script.startswith("source /opt/env.sh\n")
    assert script.rstrip().endswith("exec process_worker_pool.py -a 10.0.0.1")
    assert c["resources"] == {
        "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "1Gi"}}
    assert c["securityContext"] == {"runAsUser": 1000, "runAsGroup": 100, "runAsNonRoot": True}
    assert c["volumeMounts"] == [{"name": "volume-0", "mountPath": "/data"}]
    assert (Path(prov.script_dir) / f"{name}.boot.sh").read_text() == script
    assert prov.status([name])[0].state is JobState.PENDING


def test_defaults_are_parsls(make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in."""
    prov = KubernetesProvider(image="img")
    assert (prov.namespace, prov.init_blocks, prov.max_blocks) == ("default", 4, 10)
    prov = make()
    prov.submit("w", 1, "b")
    [sent] = api.sent("POST", "/pods$")
    [c] = sent.body["spec"]["containers"]
    assert c["resources"] == {"limits": {"cpu": "2", "memory": "500Mi"},
                              "requests": {"cpu": "1", "memory": "250Mi"}}
    assert "activeDeadlineSeconds" not in sent.body["spec"]
    assert "securityContext" not in c and "volumeMounts" not in c


def test_status_maps_every_phase_and_stuck_reason(make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in; pod statuses shaped as the PodStatus reference."""
    prov = make(walltime="00:10:00")
    names = [prov.submit("w", 1, f"b{i}") for i in range(8)]
    waiting = {"state": {"waiting": {"reason": "ImagePullBackOff",
                                     "message": 'Back-off pulling image "nope:1"'}},
               "name": "worker", "image": "nope:1", "imageID": "", "ready": False,
               "restartCount": 0}
    oom = {"state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
           "name": "worker", "image": "i", "imageID": "", "ready": False, "restartCount": 0}
    unschedulable = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                     "message": "0/3 nodes are available: 3 Insufficient cpu."}
    api.set_phase(NS, names[0], "Running")
    api.set_phase(NS, names[1], "Succeeded")
    api.set_phase(NS, names[2], "Failed", containerStatuses=[oom])
    api.set_phase(NS, names[3], "Failed", reason="DeadlineExceeded",
                  message="Pod was active on the node longer than the specified deadline")
    api.set_phase(NS, names[4], "Pending", containerStatuses=[waiting])
    api.set_phase(NS, names[5], "Pending", conditions=[unschedulable])
    api.set_phase(NS, names[6], "Unknown")
    api.set_phase(NS, names[7], "Failed", reason="Evicted",
                  message="The node was low on resource: memory.")
    got = prov.status(names)
    assert [s.state for s in got] == [
        JobState.RUNNING, JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT,
        JobState.FAILED, JobState.PENDING, JobState.UNKNOWN, JobState.FAILED]
    assert "raise max_mem" in str(got[2].message) and got[2].exit_code == 137
    assert "walltime 00:10:00" in str(got[3].message)
    assert "ImagePullBackOff" in str(got[4].message) and "check image=" in str(got[4].message)
    assert "Insufficient cpu" in str(got[5].message)
    assert "Evicted" in str(got[7].message) and "low on resource" in str(got[7].message)
    assert len(api.sent("GET", f"/api/v1/namespaces/{NS}/pods$")) == 1  # one call for all
    assert prov.live_jobs() == names  # ended pods are kept for kubectl logs until cleanup


def test_cancel_deletes_and_cleanup_finds_untracked_pods(make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in. A pod carrying the run's label that plait never
    heard back about (its create reply was lost) is found by label and deleted."""
    prov = make()
    api.kubelet_is_quick = False
    first, second = prov.submit("w", 1, "b0"), prov.submit("w", 1, "b1")
    assert prov.cancel([first]) == [True]
    assert api.sent("DELETE", f"/pods/{first}$")
    assert prov.status([first])[0].state is JobState.CANCELLED
    api.finish_deletions()
    prov.status([first])
    assert first not in prov.live_jobs()
    api.pods[(NS, "orphan")] = api._stored(
        {"metadata": {"name": "orphan", "labels": {"plait-run": prov.run_id}},
         "spec": {"containers": [{"name": "worker", "image": "i"}]}}, NS)
    assert prov.cleanup(timeout=0) == [second, "orphan"]  # deletes sent, pods terminating
    assert api.sent("DELETE", f"/pods/{second}$") and api.sent("DELETE", "/pods/orphan$")
    api.finish_deletions()
    assert prov.cleanup(timeout=5) == []
    assert prov.cancel(["no-such-pod"]) == [False]


def test_a_pod_deleted_outside_plait_is_missing_and_an_ended_one_stays_ended(
        make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in. A pod not listed right after its creation is
    still starting (lists may lag); not listed later, it was deleted by someone else."""
    prov = make()
    gone, done = prov.submit("w", 1, "b0"), prov.submit("w", 1, "b1")
    with api.lock:
        del api.pods[(NS, gone)]
    api.set_phase(NS, done, "Succeeded")
    assert [s.state for s in prov.status([gone, done])] == [JobState.PENDING,
                                                            JobState.COMPLETED]
    prov._jobs[gone].submitted -= 3600  # as if created an hour ago
    [missing] = prov.status([gone])
    assert missing.state is JobState.MISSING and "deleted outside plait" in str(missing.message)
    api.set_phase(NS, done, "Running")  # e.g. a restarted pod of the same name
    assert prov.status([done])[0].state is JobState.COMPLETED


@pytest.mark.parametrize(("setup", "words", "kind"), [
    ("bad_token", ["401", "refresh them"], "credentials"),
    ("viewer", ["403", 'cannot create resource "pods"', "needs a Role"], "permission"),
    ("quota", ["exceeded quota", "lower max_blocks"], "quota"),
    ("namespace", ['namespaces "nowhere" not found', "kubectl create namespace nowhere"],
     "namespace"),
    ("invalid", ["422", "must be less than or equal to memory limit"], "invalid"),
    ("unreachable", ["cannot reach the Kubernetes API"], "unreachable"),
])
def test_refused_submissions_name_the_cause_and_the_fix(
        make: Any, api: KubernetesAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        setup: str, words: list[str], kind: str) -> None:
    """stand-in: Kubernetes API stand-in answering with the documented Status objects."""
    kwargs: dict[str, Any] = {}
    if setup in ("bad_token", "viewer"):
        token = "expired" if setup == "bad_token" else "viewer-token"
        monkeypatch.setenv("KUBECONFIG", kube_config(tmp_path / "other", api.url, token))
    elif setup == "quota":
        api.pod_quota[NS] = 0
    elif setup == "namespace":
        kwargs["namespace"] = "nowhere"
    elif setup == "invalid":
        kwargs.update(init_mem="2Gi", max_mem="1Gi")
    elif setup == "unreachable":
        monkeypatch.setenv("KUBECONFIG", kube_config(tmp_path / "other",
                                                     "http://127.0.0.1:9", "good-token"))
    prov = make(**kwargs)
    with pytest.raises(SubmitException) as info:
        prov.submit("w", 1, "b")
    for word in words:
        assert word in str(info.value)
    assert info.value.__cause__.kind == kind  # type: ignore[union-attr]


def test_the_stand_in_checks_pods_against_the_official_schema(api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in; what makes the fixture's "no unknown fields"
    check mean something: the Pod schema of Kubernetes 1.37 is applied to every pod."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert api.check_schema(pod) is None and api.unknown_fields(pod) == []
    typo = {**pod, "spec": {**pod["spec"], "restartPolicyy": "Never"}}
    assert "restartPolicyy" in api.unknown_fields(typo)[0]
    wrong = {**pod, "spec": {**pod["spec"], "activeDeadlineSeconds": "600"}}
    refused = api.check_schema(wrong)
    assert refused is not None and refused.status == 400
    assert "activeDeadlineSeconds" in refused.body["message"]


def test_no_kube_config_says_where_to_get_one(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """stand-in: none: no kube config and no in-cluster service account exist here."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(SubmitException, match="KUBECONFIG") as info:
        KubernetesProvider(image="i").submit("w", 1, "b")
    assert info.value.__cause__.kind == "credentials"  # type: ignore[union-attr]


def test_a_failing_status_call_keeps_the_last_states(make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in, then rejecting the token."""
    prov = make()
    name = prov.submit("w", 1, "b")
    api.set_phase(NS, name, "Running")
    assert prov.status([name])[0].state is JobState.RUNNING
    tokens = dict(api.tokens)
    api.tokens.clear()
    assert prov.status([name])[0].state is JobState.RUNNING
    api.tokens.update(tokens)


def test_configuration_is_checked_offline() -> None:
    """stand-in: none needed: these fail before any API call."""
    with pytest.raises(ConfigurationError, match="image"):
        KubernetesProvider(image="")
    with pytest.raises(ConfigurationError, match="init_cpu"):
        KubernetesProvider(image="i", init_cpu=4, max_cpu=2)
    with pytest.raises(ConfigurationError, match="nodes_per_block"):
        KubernetesProvider(image="i", nodes_per_block=3)
    with pytest.raises(ConfigurationError, match="user_id"):
        KubernetesProvider(image="i", user_id="nobody")
    with pytest.raises(ConfigurationError, match="annotations"):
        KubernetesProvider(image="i", annotations={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="max_mem"):
        KubernetesProvider(image="i", max_mem=512)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="persistent_volumes"):
        KubernetesProvider(image="i", persistent_volumes=["claim"])  # type: ignore[list-item]


def test_without_the_extra_construction_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: the kubernetes package made unimportable in this process."""
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(OptionalModuleMissing, match=r"plait\[kubernetes\]"):
        KubernetesProvider(image="i")


@pytest.mark.timeout(90)
def test_a_workflow_runs_on_pods_and_cleanup_deletes_them(
        api: KubernetesAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: Kubernetes API stand-in whose "kubelet" runs each pod's container command
    as a local process (the image is ignored). The pilot executor's workers start from the
    pod plait created, connect back to the interchange and run the tasks."""
    import os

    import plait
    from plait import Config, HighThroughputExecutor, python_app

    monkeypatch.setenv("KUBECONFIG", kube_config(tmp_path / "kubeconfig", api.url,
                                                 "good-token"))
    bin_dir = os.path.dirname(sys.executable)  # the worker pool's command is installed here
    api.run_pods = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    provider = KubernetesProvider(image="python:3.12", namespace=NS, init_blocks=1,
                                  max_blocks=1)
    provider.status_polling_interval = 0.5
    htex = HighThroughputExecutor(provider=provider, address="127.0.0.1",
                                  max_workers_per_node=1, heartbeat_period=0.5,
                                  heartbeat_threshold=3)

    @python_app
    def square(x: int) -> int:
        return x * x

    plait.clear()
    try:
        dfk = plait.load(Config(executors=[htex], run_dir=str(tmp_path / "runinfo")))
        with dfk:
            assert [square(i).result(timeout=60) for i in range(3)] == [0, 1, 4]
            [pod] = api.pods.values()
            assert pod["metadata"]["labels"]["plait-run"] == dfk.run_id == provider.run_id
            assert pod["status"]["phase"] == "Running"
            # a pod of this run whose create reply was lost: shutdown deletes it too
            api.pods[(NS, "lost")] = api._stored(
                {"metadata": {"name": "lost", "labels": {"plait-run": dfk.run_id}},
                 "spec": {"containers": [{"name": "worker", "image": "i"}]}}, NS)
        assert len(api.sent("DELETE", f"/pods/{pod['metadata']['name']}$")) == 1
        assert api.sent("DELETE", "/pods/lost$")
        [proc] = api.processes.values()
        assert proc.wait(timeout=30) is not None  # the pod's container was stopped
    finally:
        plait.clear()
        api.stop_containers()


def test_a_crashed_runs_pods_are_deleted_by_a_new_provider_with_its_run_id(
        make: Any, api: KubernetesAPI) -> None:
    """stand-in: Kubernetes API stand-in. What the README says to do after a crash: a new
    provider, given the dead run's id, finds its pods by label and deletes them."""
    crashed = make()
    pods = [crashed.submit("w", 1, f"b{i}") for i in range(2)]
    rescuer = make()
    rescuer.run_id = crashed.run_id
    assert rescuer.cleanup(timeout=5) == []
    assert not any(name in pods for _, name in api.pods)
