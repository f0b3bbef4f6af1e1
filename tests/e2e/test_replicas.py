"""Two Tessera replicas behind Debian's nginx (open source: passive checks
only), gRPC through grpc_pass and REST through proxy_pass, restarted one
after the other (SIGTERM, drain, exit, start again on the same ports) while
clients loop on all four front doors through nginx: no request fails and
every reply is correct.

What keeps requests whole (docs/operations.md): while a replica drains it
still answers (its REST replies close their connection); once it stops, its
ports refuse connections and nginx passes the request to the other replica
(`*_next_upstream error`); while it starts, gRPC does not listen yet and REST
inference answers 503, which nginx also passes on (`http_503`)."""
import os
import shutil
import signal
import subprocess
import time

import grpc
import pytest
import requests

from conftest import Tessera, free_port, kgrpc
from test_metrics import scrape
from traffic import DOORS as DOOR_NAMES, Traffic, dense_reference

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="Debian's nginx package is not installed (scripts/install-deps.sh installs it)")

# Rounds of restarts (each restarts both replicas) and the doors looped on;
# the environment can ask for more to hunt rare failures.
ROUNDS = int(os.environ.get("TESSERA_REPLICA_ROUNDS", "2"))
DOORS = os.environ.get("TESSERA_REPLICA_DOORS", ",".join(DOOR_NAMES)).split(",")
DRAIN_SECONDS = 2


def nginx_config(workdir, rest_front, grpc_front, replicas):
    """An nginx.conf for an unprivileged, foreground nginx whose files all live in `workdir`."""
    rest = "".join(f"    server 127.0.0.1:{r.rest_port} max_fails=0;\n" for r in replicas)
    grpc_servers = "".join(f"    server 127.0.0.1:{r.grpc_port} max_fails=0;\n" for r in replicas)
    temp = "".join(f"  {kind}_temp_path {workdir}/{kind}_temp;\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log info;
events {{ worker_connections 1024; }}
http {{
  access_log {workdir}/access.log;
{temp}
  upstream tessera_rest {{
{rest}  }}
  upstream tessera_grpc {{
{grpc_servers}  }}
  server {{
    listen 127.0.0.1:{rest_front};
    location / {{
      proxy_pass http://tessera_rest;
      proxy_next_upstream error timeout http_503 non_idempotent;
      proxy_connect_timeout 5s;
    }}
  }}
  server {{
    listen 127.0.0.1:{grpc_front} http2;
    location / {{
      grpc_pass grpc://tessera_grpc;
      grpc_next_upstream error timeout http_503 non_idempotent;
      grpc_connect_timeout 5s;
    }}
  }}
}}
"""


class Front:
    """The load balancer as the traffic's target: the same attributes as a Tessera."""

    def __init__(self, rest_port, grpc_port):
        self.rest_url = f"http://127.0.0.1:{rest_port}"
        self.channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        self.stub = kgrpc.GRPCInferenceServiceStub(self.channel)


@pytest.fixture
def replicas(tmp_path, repo):
    started = []
    for i in range(2):
        r = Tessera(["--model_name", "dense", "--model_path", str(repo / "dense"),
                     "--drain_seconds", str(DRAIN_SECONDS), "--metrics_enable"], tmp_path)
        r.log_path = tmp_path / f"replica{i}-0.log"
        started.append(r.start())
    yield started
    for r in started:
        if r.proc.poll() is None:
            assert r.stop() == 0, r.logs()


@pytest.fixture
def nginx(tmp_path, replicas):
    workdir = tmp_path / "nginx"
    workdir.mkdir()
    rest_front, grpc_front = free_port(), free_port()
    (workdir / "nginx.conf").write_text(nginx_config(workdir, rest_front, grpc_front, replicas))
    proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                             "-e", str(workdir / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    front = Front(rest_front, grpc_front)
    front.error_log = workdir / "error.log"
    deadline = time.time() + 30
    while True:
        assert proc.poll() is None, (workdir / "error.log").read_text()
        try:
            if requests.get(front.rest_url + "/v2/health/ready", timeout=5).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.time() < deadline, (workdir / "error.log").read_text()
        time.sleep(0.1)
    yield front
    front.channel.close()
    proc.send_signal(signal.SIGQUIT)  # graceful stop
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def restart(replica, number, tmp_path):
    """SIGTERM (the replica drains, then exits 0), then start again on the same ports."""
    replica.channel.close()
    replica.proc.send_signal(signal.SIGTERM)
    code = replica.proc.wait(60)
    replica.log.close()
    assert code == 0, replica.logs()
    replica.log_path = tmp_path / f"{replica.log_path.stem.split('-')[0]}-{number}.log"
    replica.start()


def test_rolling_restarts_behind_nginx_lose_no_request(tmp_path, repo, replicas, nginx):
    traffic = Traffic(nginx, *dense_reference(repo / "dense" / "2" / "model.pt"), doors=DOORS).start()
    try:
        counts = traffic.wait_for_more({d: 0 for d in traffic.doors})
        for round_number in range(1, ROUNDS + 1):
            for replica in replicas:
                restart(replica, round_number, tmp_path)
                # Traffic flows through nginx again before the next restart.
                counts = traffic.wait_for_more(counts)
    finally:
        final = traffic.stop()
    if traffic.failures:  # what nginx saw besides refused connections (retried)
        errors = [line for line in nginx.error_log.read_text().splitlines()
                  if ("[error]" in line or "[warn]" in line) and "Connection refused" not in line]
        print("failures:", *traffic.failures, "nginx:", *errors[-30:], sep="\n")
    assert traffic.failures == []
    # nginx did meet stopped replicas, on both upstreams, and retried elsewhere.
    refused = [l for l in nginx.error_log.read_text().splitlines() if "Connection refused" in l]
    assert any('upstream: "grpc://' in l for l in refused), "no gRPC request met a stopped replica"
    assert any('upstream: "http://' in l for l in refused), "no REST request met a stopped replica"
    assert all(final[d] > 0 for d in traffic.doors), final
    # Both replicas served: each answered requests through nginx in its last life.
    for replica in replicas:
        served = sum(v for (name, labels), v in scrape(replica).items()
                     if name == "ovms_requests_success" and dict(labels)["name"] == "dense")
        assert served > 0, replica.logs()
