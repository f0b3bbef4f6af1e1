"""A real Prometheus (Debian's prometheus 2.42) scraping Tessera's /metrics:
the counters Prometheus stored, read back through its own HTTP query API,
equal the calls sent over the four front doors; the histogram queries the
Grafana dashboard uses answer; `promtool check metrics` parses the
exposition and finds nothing but the OVMS metric names' conventions."""
import json
import math
import shutil
import subprocess
import time

import pytest
import requests

from conftest import Tessera, free_port, make_repository
from test_metrics import kserve_grpc_infer, kserve_rest_infer, tfs_grpc_predict, tfs_rest_predict

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None or PROMTOOL is None,
    reason="Debian's prometheus package is not installed (scripts/install-deps.sh installs it)")

# Every family the server has, the optional ones included.
ALL_FAMILIES = ["ovms_streams", "ovms_current_requests", "ovms_requests_success",
                "ovms_requests_fail", "ovms_request_time_us", "ovms_inference_time_us",
                "ovms_wait_for_infer_req_time_us", "ovms_infer_req_queue_size",
                "ovms_infer_req_active", "tessera_infer_queue_length", "tessera_batch_size",
                "tessera_pipeline_node_time_us"]


@pytest.fixture(scope="module")
def tessera(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("prometheus"))
    config = {"model_config_list": [{"config": {"name": "dense", "base_path": "dense"}}],
              "monitoring": {"metrics": {"enable": True, "metrics_list": ALL_FAMILIES}}}
    (root / "config.json").write_text(json.dumps(config))
    server = Tessera(["--config_path", str(root / "config.json")], root).start()
    yield server
    assert server.stop() == 0, server.logs()


class Prometheus:
    """One prometheus process scraping `target` every second, its storage in `workdir`."""

    def __init__(self, workdir, target):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: tessera\n    scrape_timeout: 1s\n"
            f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(workdir / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def logs(self):
        self.log.flush()
        return open(self.log.name).read()

    def query(self, promql):
        """The result vector of an instant query: [(labels, float value)]."""
        resp = requests.get(self.url + "/api/v1/query", params={"query": promql}, timeout=10)
        body = resp.json()
        assert resp.status_code == 200 and body["status"] == "success", (promql, body)
        assert body["data"]["resultType"] == "vector", body
        return [(r["metric"], float(r["value"][1])) for r in body["data"]["result"]]

    def wait(self, what, predicate, timeout=60):
        """Polls `predicate` (returns (done, last seen)) until done."""
        deadline = time.time() + timeout
        seen = None
        while time.time() < deadline:
            assert self.proc.poll() is None, self.logs()
            try:
                done, seen = predicate()
                if done:
                    return seen
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}; last seen {seen}\n{self.logs()}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory, tessera):
    prom = Prometheus(tmp_path_factory.mktemp("prometheus_server"), f"127.0.0.1:{tessera.rest_port}")
    # Scraped at least once before anything is sent, so rates see the change.
    prom.wait("the first scrape of tessera",
              lambda: (lambda up: (up == [1.0], up))([v for _, v in prom.query('up{job="tessera"}')]))
    yield prom
    prom.stop()


def by_door(results):
    return {(m["api"], m["interface"], m["method"], m.get("version")): v for m, v in results}


def test_stored_counters_equal_the_calls_sent(tessera, prometheus):
    sent = {  # (api, interface, method, version): (successes, failures)
        ("KServe", "gRPC", "ModelInfer", "2"): (3, 2),
        ("TensorFlowServing", "gRPC", "Predict", "2"): (4, 1),
        ("KServe", "REST", "ModelInfer", "2"): (2, 3),
        ("TensorFlowServing", "REST", "Predict", "2"): (5, 2),
    }
    senders = {"KServe gRPC": kserve_grpc_infer, "TFS gRPC": tfs_grpc_predict,
               "KServe REST": kserve_rest_infer, "TFS REST": tfs_rest_predict}
    for (sender, (ok, failed)) in zip(senders.values(), sent.values()):
        for _ in range(ok):
            assert sender(tessera, True)
        for _ in range(failed):
            assert not sender(tessera, False)

    def counters():
        success = by_door(prometheus.query('ovms_requests_success{job="tessera",name="dense"} > 0'))
        fail = by_door(prometheus.query('ovms_requests_fail{job="tessera",name="dense"} > 0'))
        got = {k: (success.get(k, 0), fail.get(k, 0)) for k in set(success) | set(fail)}
        return got == sent, got
    prometheus.wait("Prometheus to store the counters sent", counters)

    # Aggregations over what Prometheus stored.
    [(_, total_fail)] = prometheus.query('sum(ovms_requests_fail{job="tessera"})')
    assert total_fail == sum(f for _, f in sent.values())
    grpc_ok = prometheus.query(
        'sum by (interface) (ovms_request_time_us_count{job="tessera",name="dense"})')
    assert {m["interface"]: v for m, v in grpc_ok} == {"gRPC": 3 + 4, "REST": 2 + 5}
    [(_, engine_runs)] = prometheus.query(
        'sum(ovms_inference_time_us_count{job="tessera",name="dense",version="2"})')
    assert engine_runs == 3 + 4 + 2 + 5  # the failed calls never reached the engine
    [(_, streams)] = prometheus.query('ovms_streams{job="tessera",name="dense",version="2"}')
    assert streams >= 1

    # The dashboard's latency quantile: a finite number of microseconds. A
    # series first seen with its value already up has no rate yet: keep
    # sending while waiting.
    def quantile():
        assert kserve_grpc_infer(tessera, True)
        result = prometheus.query(
            'histogram_quantile(0.9, sum by (le) (rate(ovms_request_time_us_bucket{job="tessera"}[1m])))')
        value = result[0][1] if result else math.nan
        return math.isfinite(value) and value > 0, value
    prometheus.wait("a latency quantile", quantile)


# Names OVMS chose that break Prometheus's naming conventions; kept so OVMS's
# dashboards and alerts work unchanged (docs/metrics.md).
OVMS_NAMING = {
    'ovms_requests_success counter metrics should have "_total" suffix',
    'ovms_requests_fail counter metrics should have "_total" suffix',
    "ovms_request_time_us metric names should not contain abbreviated units",
    "ovms_inference_time_us metric names should not contain abbreviated units",
    "ovms_wait_for_infer_req_time_us metric names should not contain abbreviated units",
    "tessera_pipeline_node_time_us metric names should not contain abbreviated units",
}


def test_promtool_accepts_the_exposition(tessera):
    assert tfs_rest_predict(tessera, True)  # some series with values
    text = requests.get(tessera.rest_url + "/metrics", timeout=10).text
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=60)
    findings = {line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()}
    # Exit 1 would be a text that does not parse; 3 is lint findings only.
    assert result.returncode in (0, 3), (result.returncode, findings)
    # Only families with series are linted: the counters always are.
    assert findings <= OVMS_NAMING, findings - OVMS_NAMING
    assert {f for f in OVMS_NAMING if "counter" in f} <= findings, findings


def test_every_dashboard_query_runs_in_prometheus(tessera, prometheus):
    from test_grafana_dashboard import load, queries, substitute
    assert kserve_rest_infer(tessera, True)
    # Panels on series every served model has answer once two scrapes are in.
    expected = {"Replicas up", "Requests per second", "Request rate by model, API and interface",
                "Queue length by model version", "Current requests by model version",
                "Workers: configured and busy"}

    def answered():
        titles = set()
        for title, expr in queries(load()):
            if prometheus.query(substitute(expr)):  # asserts Prometheus accepts the query
                titles.add(title)
        return expected <= titles, titles
    prometheus.wait("the dashboard's queries to answer", answered)
