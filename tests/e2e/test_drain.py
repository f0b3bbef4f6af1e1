"""The drain on SIGTERM (--drain_seconds): readiness turns false at once on
both KServe doors while every front door keeps answering correctly; REST
replies then close their connection; the process stops by itself after the
drain and exits 0. A second signal ends the drain early; SIGINT does not
drain."""
import signal
import socket
import time

import grpc
import pytest
import requests

from conftest import kpb, wait_until
from traffic import Traffic, dense_reference


@pytest.fixture
def reference(repo):
    return dense_reference(repo / "dense" / "2" / "model.pt")


def start(start_tessera, repo, drain_seconds):
    return start_tessera("--model_name", "dense", "--model_path", str(repo / "dense"),
                         "--drain_seconds", str(drain_seconds))


def rest_ready(server):
    return requests.get(server.rest_url + "/v2/health/ready", timeout=10).status_code


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except OSError:
        return True


def test_sigterm_turns_not_ready_keeps_serving_and_then_exits_0(start_tessera, repo, reference):
    server = start(start_tessera, repo, drain_seconds=30)
    assert rest_ready(server) == 200
    traffic = Traffic(server, *reference).start()
    before = traffic.wait_for_more({d: 0 for d in traffic.doors})

    server.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: rest_ready(server) == 503, what="REST readiness to turn false")
    assert requests.get(server.rest_url + "/v2/health/ready", timeout=10).json() == \
        {"error": "Server is not ready"}
    assert not server.stub.ServerReady(kpb.ServerReadyRequest(), timeout=10).ready
    # Still live, the model still ready, every door still answering correctly.
    assert server.stub.ServerLive(kpb.ServerLiveRequest(), timeout=10).live
    assert requests.get(server.rest_url + "/v2/health/live", timeout=10).status_code == 200
    assert requests.get(server.rest_url + "/v2/models/dense/ready", timeout=10).status_code == 200
    assert server.stub.ModelReady(kpb.ModelReadyRequest(name="dense"), timeout=10).ready
    traffic.wait_for_more(traffic.counts(), each=5)
    # Keep-alive clients are told to reconnect (through a balancer: elsewhere).
    with requests.Session() as session:
        reply = session.get(server.rest_url + "/v2/models/dense", timeout=10)
        assert reply.status_code == 200 and reply.json()["name"] == "dense"
        assert reply.headers["Connection"] == "close"
    assert server.proc.poll() is None, "the drain must not be over yet"
    after = traffic.stop()
    assert traffic.failures == []
    assert all(after[d] > before[d] for d in traffic.doors)

    # A second SIGTERM ends the 30 s drain early.
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(25) == 0, server.logs()
    assert "drain ended early" in server.logs()
    assert refuses_connections(server.grpc_port) and refuses_connections(server.rest_port)


def test_drain_ends_by_itself_after_drain_seconds(start_tessera, repo):
    server = start(start_tessera, repo, drain_seconds=2)
    sent = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: rest_ready(server) == 503, what="REST readiness to turn false")
    assert server.proc.wait(60) == 0, server.logs()
    assert time.monotonic() - sent >= 1.9  # never sooner than the drain asked for
    assert "draining for 2 s" in server.logs()
    assert "drain ended early" not in server.logs()


def test_sigint_stops_without_draining(start_tessera, repo):
    server = start(start_tessera, repo, drain_seconds=120)
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(60) == 0, server.logs()
    assert "draining" not in server.logs()


def test_no_drain_with_drain_seconds_0(start_tessera, repo):
    server = start(start_tessera, repo, drain_seconds=0)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(60) == 0, server.logs()
    assert "draining" not in server.logs()


def test_grpc_is_not_served_before_the_models_are_loaded(start_tessera, repo):
    # Ready as soon as gRPC answers at all: it listens only once loading is done.
    server = start_tessera("--model_name", "dense", "--model_path", str(repo / "dense"),
                           wait_ready=False)
    deadline = time.time() + 60
    while True:
        assert time.time() < deadline, server.logs()
        try:
            ready = server.stub.ServerReady(kpb.ServerReadyRequest(), timeout=2).ready
            break
        except grpc.RpcError as e:
            assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), e
            server.connect()  # no reconnect backoff
            time.sleep(0.02)
    assert ready
    assert server.stub.ModelReady(kpb.ModelReadyRequest(name="dense"), timeout=10).ready
