#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses: fuzz/corpus/<name>/<seed>.

Seeds are small valid (and a few nearly valid) inputs in each parser's own
format, modelled on the project's example config, README requests and e2e
tests, so the fuzzer starts from inputs that reach deep into the parsers.

Usage: /usr/bin/python3 fuzz/make_seeds.py
Needs protoc and python3-protobuf (gRPC seeds, from proto/), python3-onnx,
python3-numpy and python3-opencv (scripts/install-deps.sh installs them all).
The output is deterministic; every existing seed file is rewritten.
"""
import argparse
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write(corpus, name, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def js(obj):
    return json.dumps(obj, separators=(",", ":"))


def kserve_rest_bodies():
    """(name, bytes): JSON part, NUL, binary part (the harness's format)."""
    out = [
        ("fp32_flat", js({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32",
                                      "data": [1, 2.5, -3, 4e10, 0, 1]}]})),
        ("fp32_nested", js({"id": "7", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32",
                                                   "data": [[1, 2], [3, 4]]}],
                            "outputs": [{"name": "x", "parameters": {"binary_data": True}}]})),
        ("all_types", js({"inputs": [
            {"name": "b", "shape": [2], "datatype": "BOOL", "data": [True, False]},
            {"name": "u8", "shape": [2], "datatype": "UINT8", "data": [0, 255]},
            {"name": "i64", "shape": [1, 2], "datatype": "INT64", "data": [-9223372036854775808, 9]},
            {"name": "u64", "shape": [1], "datatype": "UINT64", "data": [18446744073709551615]},
            {"name": "h", "shape": [2], "datatype": "FP16", "data": [0.5, 65504]},
            {"name": "bf", "shape": [1], "datatype": "BF16", "data": [1.5]},
            {"name": "d", "shape": [1], "datatype": "FP64", "data": [1e-300]},
            {"name": "s", "shape": [2], "datatype": "BYTES", "data": ["a", "\u00e9"]}],
            "parameters": {"binary_data_output": True}})),
        ("nan", '{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[NaN,Infinity,-Infinity]}]}'),
        ("ragged", js({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT32",
                                   "data": [[1, 2], [3]]}]})),
    ]
    hdr = js({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32",
                          "parameters": {"binary_data_size": 8}},
                         {"name": "s", "shape": [2], "datatype": "BYTES",
                          "parameters": {"binary_data_size": 11}}],
              "outputs": [{"name": "x"}]})
    binary = struct.pack("<2f", 1.0, -2.0) + struct.pack("<I", 2) + b"ab" + struct.pack("<I", 1) + b"c"
    out.append(("binary", hdr.encode() + b"\0" + binary))
    return out


def make_kserve_rest():
    for name, body in kserve_rest_bodies():
        write("kserve_rest", name, body)
    # Raw binary bodies (Inference-Header-Content-Length: 0).
    write("kserve_rest", "raw_fp32", struct.pack("<6f", *range(6)))
    write("kserve_rest", "raw_bytes", b"\x89PNG....")
    # Bodies of the repository extension's index, load and unload.
    write("kserve_rest", "repository_index", js({"ready": True}).encode())
    write("kserve_rest", "repository_unload", js({"parameters": {"unload_dependents": False}}).encode())


def tfs_rest_bodies():
    return [
        ("row_unnamed", js({"instances": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]})),
        ("col_unnamed", js({"signature_name": "serving_default", "inputs": [[1, 2, 3]]})),
        ("row_named", js({"instances": [{"a": [1, 2], "b": 0.5, "c": True},
                                        {"a": [3, 4], "b": -1, "c": False}]})),
        ("col_named", js({"inputs": {"a": [[1, 2]], "b": [1.5], "c": [True]}})),
        ("b64", js({"instances": [{"b64": base64.b64encode(b"\x00\x01hello").decode()}]})),
        ("strings", js({"inputs": ["x", "yz"]})),
        ("b64_input", js({"inputs": {"b64": [[1, 2], [3, 4]], "u": [4294967295]}})),
        ("special", '{"instances":[NaN,Infinity,-Infinity,1e39]}'),
    ]


def make_tfs_rest():
    for name, body in tfs_rest_bodies():
        write("tfs_rest", name, body)


def make_grpc():
    stubs = tempfile.mkdtemp(prefix="tessera-seeds-")
    protos = ["kserve/grpc_predict_v2.proto"]
    for top in ["tensorflow", "tensorflow_serving"]:
        for d, _, files in os.walk(os.path.join(ROOT, "proto", top)):
            protos += [os.path.relpath(os.path.join(d, f), os.path.join(ROOT, "proto"))
                       for f in files if f.endswith(".proto")]
    subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"), f"--python_out={stubs}"] + protos,
                   check=True)
    for d, _, _ in os.walk(stubs):
        open(os.path.join(d, "__init__.py"), "a").close()
    sys.path.insert(0, stubs)
    from kserve import grpc_predict_v2_pb2 as kpb
    from tensorflow_serving.apis import predict_pb2
    from tensorflow_serving.config import model_server_config_pb2
    from tensorflow.core.framework import types_pb2, tensor_pb2, tensor_shape_pb2

    r = kpb.ModelInferRequest(model_name="m", model_version="1", id="a")
    t = r.inputs.add(name="x", datatype="FP32", shape=[2, 2])
    t.contents.fp32_contents.extend([1, 2, 3, 4])
    t = r.inputs.add(name="i", datatype="INT64", shape=[1])
    t.contents.int64_contents.append(-5)
    t = r.inputs.add(name="s", datatype="BYTES", shape=[2])
    t.contents.bytes_contents.extend([b"ab", b""])
    r.outputs.add(name="x")
    write("kserve_grpc", "typed", r.SerializeToString())
    r = kpb.ModelInferRequest(model_name="m")
    r.inputs.add(name="x", datatype="FP16", shape=[1, 3])
    r.inputs.add(name="b", datatype="BOOL", shape=[2])
    r.raw_input_contents.extend([b"\x00\x3c" * 3, b"\x01\x00"])
    write("kserve_grpc", "raw", r.SerializeToString())
    r = kpb.ModelInferRequest(model_name="m")
    r.inputs.add(name="s", datatype="BYTES", shape=[1])
    r.raw_input_contents.append(struct.pack("<I", 3) + b"abc")
    write("kserve_grpc", "raw_bytes", r.SerializeToString())

    def shape(*dims):
        return tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])

    p = predict_pb2.PredictRequest()
    p.model_spec.name = "m"
    p.model_spec.version.value = 1
    p.inputs["x"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape(1, 3),
                                                  float_val=[1, 2, 3]))
    p.inputs["s"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=shape(2),
                                                  string_val=[b"a", b"bc"]))
    p.output_filter.append("x")
    write("tfs_grpc", "typed", p.SerializeToString())
    p = predict_pb2.PredictRequest()
    p.model_spec.name = "m"
    p.model_spec.signature_name = "serving_default"
    p.inputs["x"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, tensor_shape=shape(2),
                                                  tensor_content=struct.pack("<2q", 1, -1)))
    p.inputs["h"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_HALF, tensor_shape=shape(1),
                                                  half_val=[0x3c00]))
    p.inputs["b"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_BOOL, tensor_shape=shape(1),
                                                  bool_val=[True]))
    write("tfs_grpc", "content", p.SerializeToString())
    c = model_server_config_pb2.ModelServerConfig()
    m = c.model_config_list.config.add(name="dense", base_path="/models/dense", model_platform="tensorflow")
    m = c.model_config_list.config.add(name="two", base_path="models/two")
    write("tfs_grpc", "config", c.SerializeToString())


def make_http():
    requests = []
    for name, body in kserve_rest_bodies():
        if b"\0" in (body if isinstance(body, bytes) else body.encode()):
            data = body
            json_part = data.split(b"\0", 1)[0]
            requests.append((f"kserve_{name}", "POST", "/v2/models/m/infer",
                             [("Inference-Header-Content-Length", str(len(json_part))),
                              ("Content-Type", "application/octet-stream")],
                             data.replace(b"\0", b"", 1)))
        else:
            requests.append((f"kserve_{name}", "POST", "/v2/models/m/versions/1/infer",
                             [("Content-Type", "application/json")], body.encode()))
    requests.append(("kserve_raw", "POST", "/v2/models/m/infer",
                     [("Inference-Header-Content-Length", "0")], struct.pack("<3f", 1, 2, 3)))
    for name, body in tfs_rest_bodies():
        requests.append((f"tfs_{name}", "POST", "/v1/models/m:predict", [], body.encode()))
    requests.append(("tfs_two", "POST", "/v1/models/two/versions/1:predict", [],
                     js({"instances": [{"a": 1, "b": {"b64": "YWI="}}]}).encode()))
    # The repository and statistics extensions.
    for i, (path, body) in enumerate([
            ("/v2/repository/index", b""), ("/v2/repository/index", b'{"ready": true}'),
            ("/v2/repository/models/m/load", b"{}"),
            ("/v2/repository/models/m/unload", b'{"parameters": {"unload_dependents": false}}'),
            ("/v2/repository/models/x/load", b'{"parameters": {"config": "{}"}}')]):
        requests.append((f"repository{i}", "POST", path, [("Content-Type", "application/json")], body))
    gets = ["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/m", "/v2/models/m/ready",
            "/v2/models/two/versions/1", "/v2/models/img/versions/2/ready",
            "/v1/models/m", "/v1/models/m/versions/1", "/v1/models/m/metadata",
            "/v1/models/two/versions/1/metadata", "/v1/models/m%2Fx?a=1", "/v1/config",
            "/V2/Models/M/Ready", "/v2/models/m/infer", "/v1/models/m:classify",
            "/v2/models/stats", "/v2/models/m/stats", "/v2/models/m/versions/1/stats"]
    for i, path in enumerate(gets):
        requests.append((f"get{i:02d}", "GET", path, [], b""))
    requests.append(("delete", "DELETE", "/v2/models/m", [], b""))
    for name, method, path, headers, body in requests:
        lines = [method, path] + [f"{k}: {v}" for k, v in headers]
        write("http_router", name, ("\n".join(lines) + "\n\n").encode() + body)
        head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers)
        if body or method == "POST":
            head += f"Content-Length: {len(body)}\r\n"
        write("http_request", name, (head + "\r\n").encode() + body)
    # Framing the HTTP server's parser handles: chunked bodies, pipelining,
    # Expect: 100-continue, HTTP/1.0.
    chunked = (b"POST /v1/models/m:predict HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"c\r\n{\"instances\"\r\nd\r\n:[[1,2,3]]}  \r\n0\r\n\r\n")
    write("http_request", "chunked", chunked)
    pipelined = (b"GET /v2/health/live HTTP/1.1\r\nHost: h\r\n\r\n"
                 b"GET /v1/models/m HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    write("http_request", "pipelined", pipelined)
    write("http_request", "expect", b"POST /v2/models/m/infer HTTP/1.1\r\nExpect: 100-continue\r\n"
                                     b"Content-Length: 2\r\n\r\n{}")


def make_http_encoding():
    """First byte: even = gzip, odd = deflate; then the compressed body."""
    import gzip
    import zlib
    body = js({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                           "data": [1, 2, 3, 4]}]}).encode()
    write("http_encoding", "gzip", b"g" + gzip.compress(body, mtime=0))
    write("http_encoding", "zlib", b"d" + zlib.compress(body))
    raw = zlib.compressobj(wbits=-15)
    write("http_encoding", "raw_deflate", b"d" + raw.compress(body) + raw.flush())
    write("http_encoding", "two_members",
          b"g" + gzip.compress(b"abc", mtime=0) + gzip.compress(b"def", mtime=0))
    write("http_encoding", "truncated", b"g" + gzip.compress(body, mtime=0)[:-6])
    # 4 MiB of zeros: inflates past the harness's 1 MiB limit.
    write("http_encoding", "bomb", b"g" + gzip.compress(bytes(4 << 20), 9, mtime=0))
    write("http_encoding", "accept", b"gzip;q=0.5, deflate, *;q=0")


def make_config():
    with open(os.path.join(ROOT, "examples", "config.json"), "rb") as f:
        write("config_json", "example", f.read())
    full = {"model_config_list": [{"config": {
        "name": "m", "base_path": "/models/m", "target_device": "CPU", "nireq": 2,
        "batch_size": "1:8", "shape": {"x": "(1,3,-1,224:320)"}, "layout": "NHWC:NCHW",
        "plugin_config": {"NUM_STREAMS": 1, "PERF": "x", "B": True},
        "model_version_policy": {"specific": {"versions": [3, 1, 3]}},
        "dynamic_batching": {"max_batch_size": 8, "max_queue_delay_microseconds": 100,
                             "preferred_batch_sizes": [4, 2]}}},
        {"config": {"name": "s3", "base_path": "s3://bucket/m", "shape": "auto",
                    "model_version_policy": {"all": {}}}}],
        "monitoring": {"metrics": {"enable": True}}}
    write("config_json", "full", json.dumps(full, indent=1))
    write("config_json", "policy", js({"latest": {"num_versions": 2}}))
    write("config_json", "batching", js({"max_batch_size": 4, "preferred_batch_sizes": [1, 4]}))
    write("config_json", "shape", "(1,3,224,224)")
    write("config_json", "layout", js({"x": "NCHW", "y": "N..."}))
    write("config_json", "batch", "1:8")
    write("config_json", "typo", js({"model_config_list": [{"config": {"name": "m", "base_path": "../m",
                                                                       "nirq": 1}}]}))
    write("mapping_config", "both", js({"inputs": {"input:0": "x"}, "outputs": {"out": "y"}}))
    write("mapping_config", "inputs", js({"inputs": {"a": "b", "c": "d"}}))
    write("mapping_config", "bad", js({"inputs": {"a": 1}, "extra": {}}))
    write("signature_json", "dense", js({"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}],
                                         "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 4]}]}))
    write("signature_json", "multi", js({
        "inputs": [{"name": "a", "datatype": "INT64", "shape": [-1]},
                   {"name": "b", "datatype": "BOOL"}, {"name": "c", "datatype": "BF16", "shape": []}],
        "outputs": [{"name": "y", "datatype": "FP16", "shape": [2, 3, 4]}]}))
    write("signature_json", "bad", js({"inputs": [{"name": "", "datatype": "BYTES"}], "outputs": []}))


def make_base64():
    for i, raw in enumerate([b"", b"f", b"fo", b"foo", b"\x00\xff\xfe\xfd", bytes(range(40))]):
        write("base64", f"std{i}", base64.b64encode(raw))
        write("base64", f"url{i}", base64.urlsafe_b64encode(raw).rstrip(b"="))
    write("base64", "bad", b"YW=J")


def make_images():
    import cv2
    import numpy as np
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)
    for ext in [".png", ".jpg", ".bmp"]:
        ok, buf = cv2.imencode(ext, img)
        assert ok
        write("image", "color" + ext, buf.tobytes())
    ok, buf = cv2.imencode(".png", img[:, :, 0])
    write("image", "gray.png", buf.tobytes())
    ok, buf = cv2.imencode(".png", np.dstack([img, img[:, :, :1]]))
    write("image", "alpha.png", buf.tobytes())
    ok, buf = cv2.imencode(".png", (img.astype(np.uint16) * 257))
    write("image", "color16.png", buf.tobytes())
    ok, buf = cv2.imencode(".jpg", img)
    write("image", "color.jpg.b64", base64.b64encode(buf.tobytes()))


def make_onnx():
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def model(name, nodes, inputs, outputs, inits=(), opset=13):
        g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="seeds")
        m.ir_version = 7
        write("onnx_import", name, m.SerializeToString())

    f = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    rng = np.random.default_rng(2)
    model("add_relu", [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Relu", ["s"], ["y"])],
          [vi("a", f, ["N", 3]), vi("b", f, ["N", 3])], [vi("y", f, ["N", 3])])
    w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "w")
    bias = numpy_helper.from_array(np.zeros(4, np.float32), "bias")
    model("gemm", [helper.make_node("Gemm", ["x", "w", "bias"], ["y"], transB=1)],
          [vi("x", f, [2, 3])], [vi("y", f, [2, 4])], [w, bias], opset=11)
    k = numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "k")
    model("conv_pool", [helper.make_node("Conv", ["x", "k"], ["c"], pads=[1, 1, 1, 1]),
                        helper.make_node("GlobalAveragePool", ["c"], ["p"]),
                        helper.make_node("Flatten", ["p"], ["y"])],
          [vi("x", f, [1, 1, 4, 4])], [vi("y", f, [1, 2])], [k], opset=17)
    shp = numpy_helper.from_array(np.array([-1, 2], np.int64), "shp")
    model("reshape_softmax", [helper.make_node("Reshape", ["x", "shp"], ["r"]),
                              helper.make_node("Softmax", ["r"], ["y"], axis=-1)],
          [vi("x", f, [2, 2])], [vi("y", f, [2, 2])], [shp])
    model("cast_int", [helper.make_node("Cast", ["x"], ["c"], to=TensorProto.INT64),
                       helper.make_node("Mul", ["c", "c"], ["y"])],
          [vi("x", f, [3])], [vi("y", TensorProto.INT64, [3])])
    # A tensor with external data the loader must resolve inside the model's
    # directory (the file does not exist: an error path).
    ext = TensorProto(name="e", data_type=f, dims=[2])
    ext.data_location = TensorProto.EXTERNAL
    ext.external_data.add(key="location", value="weights.bin")
    model("external", [helper.make_node("Add", ["x", "e"], ["y"])], [vi("x", f, [2])],
          [vi("y", f, [2])], [ext])


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    corpus = os.path.join(HERE, "corpus")
    if os.path.isdir(corpus):
        shutil.rmtree(corpus)
    make_base64()
    make_kserve_rest()
    make_tfs_rest()
    make_grpc()
    make_http()
    make_http_encoding()
    make_config()
    make_images()
    make_onnx()
    for name in sorted(os.listdir(corpus)):
        files = os.listdir(os.path.join(corpus, name))
        size = sum(os.path.getsize(os.path.join(corpus, name, f)) for f in files)
        print(f"{name}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
