"""deploy/: the Kubernetes and KServe manifests parse, use only flags the
binary has, probe the health endpoints and give the drain time to finish;
the Dockerfile builds on Debian 12, runs as a non-root user on a slim image
that installs every library the binary links."""
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from conftest import BINARY, ROOT

DEPLOY = ROOT / "deploy"
# Packages every debian:12-slim image already has.
SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6"}


@pytest.fixture(scope="module")
def help_text():
    return subprocess.run([str(BINARY), "--help"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def flag_values(args):
    """{flag name: value or None} of a tessera argument list (--a=b, --a b, --a)."""
    flags, i = {}, 0
    while i < len(args):
        arg = args[i]
        assert arg.startswith("--"), args
        if "=" in arg:
            name, value = arg[2:].split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            name, value = arg[2:], args[i + 1]
            i += 1
        else:
            name, value = arg[2:], None
        flags[name] = value
        i += 1
    return flags


def assert_flags_exist(flags, help_text):
    for name in flags:
        assert re.search(rf"--{name}\b", help_text), f"--{name} is not a tessera flag"


def pod_check(pod_spec, container, help_text, rest_port):
    flags = flag_values(container["args"])
    assert_flags_exist(flags, help_text)
    assert int(flags["rest_port"]) == rest_port
    probes = {kind: container[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/v2/health/live"
    assert probes["readinessProbe"]["path"] == "/v2/health/ready"
    # The drain ends, and requests in flight get time, before Kubernetes kills the pod.
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    assert int(flags["drain_seconds"]) + 10 <= grace, (flags["drain_seconds"], grace)
    return flags


def test_kubernetes_deployment_and_service(help_text):
    docs = {d["kind"]: d for d in documents(DEPLOY / "kubernetes" / "tessera.yaml")}
    assert set(docs) == {"Deployment", "Service"}
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    flags = pod_check(pod, container, help_text, rest_port=8000)
    assert flags["config_path"] == "/models/config.json"
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/models"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": int(flags["port"]), "http": int(flags["rest_port"])}
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert pod["securityContext"]["runAsNonRoot"] is True
    labels = docs["Deployment"]["spec"]["selector"]["matchLabels"]
    assert docs["Service"]["spec"]["selector"] == labels
    assert {p["targetPort"] for p in docs["Service"]["spec"]["ports"]} == {"grpc", "http"}


def test_kserve_runtime_and_inference_service(help_text):
    docs = {d["kind"]: d for d in documents(DEPLOY / "kserve" / "tessera.yaml")}
    assert set(docs) == {"ServingRuntime", "InferenceService"}
    runtime = docs["ServingRuntime"]
    assert runtime["apiVersion"] == "serving.kserve.io/v1alpha1"
    assert {"v2", "grpc-v2"} <= set(runtime["spec"]["protocolVersions"])
    [container] = runtime["spec"]["containers"]
    service = docs["InferenceService"]
    assert service["apiVersion"] == "serving.kserve.io/v1beta1"
    predictor = service["spec"]["predictor"]
    flags = pod_check(predictor, container, help_text, rest_port=8080)
    assert flags["model_path"] == "/mnt/models" and flags["model_name"] == "{{.Name}}"
    assert predictor["model"]["runtime"] == runtime["metadata"]["name"]
    formats = {f["name"] for f in runtime["spec"]["supportedModelFormats"]}
    assert predictor["model"]["modelFormat"]["name"] in formats


def dockerfile():
    """[(instruction, arguments)] with continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    return [tuple(l.split(None, 1)) for l in lines]


def test_dockerfile_stages_user_ports_and_flags(help_text):
    steps = dockerfile()
    froms = [args for op, args in steps if op == "FROM"]
    assert froms == ["debian:12 AS build", "debian:12-slim"]
    runtime = steps[[i for i, (op, _) in enumerate(steps) if op == "FROM"][1]:]
    ops = dict(runtime)
    assert ops["USER"].split(":")[0] not in ("0", "root")
    assert set(ops["EXPOSE"].split()) == {"9000", "8000"}
    assert ops["STOPSIGNAL"] == "SIGTERM"
    assert ops["ENTRYPOINT"] == '["/usr/local/bin/tessera"]'
    assert "/models" in ops["VOLUME"]
    flags = flag_values(yaml.safe_load(ops["CMD"]))
    assert_flags_exist(flags, help_text)
    assert flags["config_path"] == "/models/config.json"
    assert any("scripts/install-deps.sh" in args for op, args in steps if op == "RUN")


def runtime_packages():
    for op, args in dockerfile():
        words = shlex.split(args) if op == "RUN" else []
        if "--no-install-recommends" in words:
            rest = words[words.index("--no-install-recommends") + 1:]
            return set(rest[:rest.index("&&")] if "&&" in rest else rest)
    raise AssertionError("no apt-get install in the Dockerfile")


@pytest.mark.skipif(not (shutil.which("readelf") and shutil.which("dpkg")), reason="needs readelf and dpkg")
def test_runtime_image_installs_every_linked_library():
    comment = subprocess.run(["readelf", "-p", ".comment", str(BINARY)], capture_output=True,
                             text=True).stdout
    if "clang version" in comment:
        # clang links what gcc's --as-needed drops (glog, gflags) and its own OpenMP.
        pytest.skip("the image is built with gcc; this binary is a clang (sanitizer) build")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", str(BINARY)], capture_output=True, text=True,
                                       check=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", str(BINARY)], capture_output=True, text=True, check=True).stdout, re.M))
    # The real file and the name ldd gave (merged /usr: /lib vs /usr/lib), in
    # one dpkg query (each costs a read of its database).
    candidates = {soname: (os.path.realpath(paths[soname]), paths[soname]) for soname in needed}
    listed = subprocess.run(["dpkg", "-S", *{p for pair in candidates.values() for p in pair}],
                            capture_output=True, text=True).stdout
    owner_of = {path: package.split(":")[0]
                for package, path in re.findall(r"^(\S+): (\S+)$", listed, re.M)}
    owners = set()
    for soname, pair in candidates.items():
        found = [owner_of[p] for p in pair if p in owner_of]
        assert found, f"no package owns {soname} ({pair})"
        owners.add(found[0])
    missing = owners - SLIM_BASE - runtime_packages()
    assert not missing, f"the runtime stage does not install {sorted(missing)}"
