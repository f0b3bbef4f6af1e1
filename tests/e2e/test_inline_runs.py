"""--inline_run_max_us: models that run in microseconds are run on the thread
that received the request while nothing is queued and a run slot is free.
Values over the wire must be the same with inline runs on (the default), off,
and under concurrent load (where runs overlap, inline and on the workers);
bad values are refused."""
import concurrent.futures

import numpy as np
import pytest

from conftest import Tessera, output_array, raw_request, run_tessera, torch_reference

RTOL = 1e-5
ATOL = 1e-6


def dense_reference(repo, x):
    return torch_reference(repo / "dense" / "2" / "model.pt", x)[0]


@pytest.mark.parametrize("flag", [[], ["--inline_run_max_us", "10000"], ["--inline_run_max_us", "0"]])
def test_values_are_the_same_inline_or_on_workers(repo, flag):
    s = Tessera(["--model_name", "dense", "--model_path", str(repo / "dense"), *flag], repo).start()
    try:
        rng = np.random.default_rng(7)
        inputs = [rng.standard_normal((1, 16), dtype=np.float32) for _ in range(40)]

        def infer(x):
            reply = s.stub.ModelInfer(raw_request("dense", {"x": x}, {"x": "FP32"}), timeout=30)
            return output_array(reply, "y")

        # One after another: after the first run on a worker, a slot is
        # free at every arrival (the inline case when enabled).
        for x in inputs:
            np.testing.assert_allclose(infer(x), dense_reference(repo, x), rtol=RTOL, atol=ATOL)
        # Eight callers at once: runs overlap; once every slot is taken,
        # requests are queued for the workers.
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for x, y in zip(inputs, pool.map(infer, inputs)):
                np.testing.assert_allclose(y, dense_reference(repo, x), rtol=RTOL, atol=ATOL)
    finally:
        assert s.stop() == 0, s.logs()


@pytest.mark.parametrize("value", ["-1", "10001", "fast"])
def test_bad_values_are_refused(repo, value):
    result = run_tessera(["--model_name", "dense", "--model_path", str(repo / "dense"),
                          "--inline_run_max_us", value])
    assert result.returncode != 0
    assert "--inline_run_max_us" in result.stderr, result.stderr
    if value != "fast":
        assert f"must be between 0 and 10000 (got {value})" in result.stderr, result.stderr
