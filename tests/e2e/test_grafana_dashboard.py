"""deploy/grafana/tessera.json: a well-formed Grafana dashboard whose every
query names metrics the server really exposes, and that shows every metric
family the server has. (test_prometheus.py runs its queries in Prometheus.)"""
import json
import re

import requests

from conftest import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "tessera.json"
# A metric selector in PromQL: a name followed by its label matchers.
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")
# Prometheus's own series (not the server's).
PROMETHEUS_SERIES = {"up"}


def load():
    return json.loads(DASHBOARD.read_text())


def queries(dashboard):
    """Every panel target's PromQL expression, with the panel's title."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def substitute(expr):
    """The expression as Prometheus would get it from Grafana, all variables at "All"."""
    return (expr.replace("$__rate_interval", "1m").replace("$job", ".*")
            .replace("$instance", ".*").replace("$model", ".*"))


def exposed_names(text):
    """Sample names the exposition can have: each family, and for histograms
    its _bucket, _sum and _count."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split()
            names.add(family)
            if kind == "histogram":
                names |= {family + "_bucket", family + "_sum", family + "_count"}
    return names


def test_dashboard_is_grafana_json():
    dashboard = load()
    assert dashboard["title"] == "Tessera" and dashboard["uid"]
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert {"job", "instance", "model"} <= set(variables)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["description"], panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_every_query_names_exposed_metrics_and_every_family_is_shown(start_tessera, repo):
    from test_prometheus import ALL_FAMILIES
    server = start_tessera("--model_name", "dense", "--model_path", str(repo / "dense"),
                           "--metrics_enable", "--metrics_list", ",".join(ALL_FAMILIES))
    text = requests.get(server.rest_url + "/metrics", timeout=10).text
    exposed = exposed_names(text)
    assert set(ALL_FAMILIES) <= exposed

    used = set()
    for title, expr in queries(load()):
        names = set(SELECTOR.findall(expr))
        assert names, (title, expr)
        unknown = names - exposed - PROMETHEUS_SERIES
        assert not unknown, f"panel {title!r} queries metrics the server does not expose: {unknown}"
        used |= names
    shown = {n for n in exposed if n in used or any(u.startswith(n + "_") for u in used)}
    # ovms_infer_req_queue_size reports the same worker count as ovms_streams.
    missing = set(ALL_FAMILIES) - shown - {"ovms_infer_req_queue_size"}
    assert not missing, f"families without a panel: {missing}"
