"""Minimal clients of the four front doors (TFS gRPC, TFS REST, KServe gRPC,
KServe REST) for tests that send the same tensors or encoded images through
each of them. Import after conftest (it puts the generated stubs on sys.path)."""
import base64
import json
import struct

import numpy as np
import requests

from conftest import kpb
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_metadata_pb2  # noqa: E402
from tensorflow_serving.apis import predict_pb2  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402

HEADER_LENGTH = "Inference-Header-Content-Length"


class WireError(Exception):
    """An error reply: `code` is the gRPC status name or the HTTP status."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def length_prefixed(blobs):
    """KServe's raw BYTES form: 4-byte little-endian length + bytes, each."""
    return b"".join(struct.pack("<I", len(b)) + b for b in blobs)


def _shape_proto(shape):
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape])


def _grpc(call):
    import grpc
    try:
        return call()
    except grpc.RpcError as e:
        raise WireError(e.code().name, e.details()) from None


def _http(resp):
    if resp.status_code != 200:
        raise WireError(resp.status_code, resp.json()["error"])
    return resp


# --- TFS gRPC ---------------------------------------------------------------

def tfs_grpc_predict(server, model, images=None, array=None, name="data"):
    """Predict with `images` (list of bytes, DT_STRING string_val) or a float32
    `array` (tensor_content); returns {output name: array}."""
    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    if images is not None:
        req.inputs[name].CopyFrom(tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, tensor_shape=_shape_proto([len(images)]),
            string_val=images))
    else:
        req.inputs[name].CopyFrom(tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT, tensor_shape=_shape_proto(array.shape),
            tensor_content=np.ascontiguousarray(array, np.float32).tobytes()))
    stub = prediction_service_pb2_grpc.PredictionServiceStub(server.channel)
    resp = _grpc(lambda: stub.Predict(req, timeout=30))
    out = {}
    for key, t in resp.outputs.items():
        shape = [d.size for d in t.tensor_shape.dim]
        out[key] = np.frombuffer(t.tensor_content, np.float32).reshape(shape)
    return out


def tfs_grpc_input_shapes(server, model):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(server.channel)
    req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    req.model_spec.name = model
    resp = _grpc(lambda: stub.GetModelMetadata(req, timeout=30))
    sigmap = get_model_metadata_pb2.SignatureDefMap()
    resp.metadata["signature_def"].Unpack(sigmap)
    sig = sigmap.signature_def["serving_default"]
    return ({k: [d.size for d in v.tensor_shape.dim] for k, v in sig.inputs.items()},
            {k: [d.size for d in v.tensor_shape.dim] for k, v in sig.outputs.items()})


# --- TFS REST ---------------------------------------------------------------

def tfs_rest_predict(server, model, body):
    """POST :predict with a JSON body; returns the parsed reply."""
    resp = requests.post(f"{server.rest_url}/v1/models/{model}:predict", data=json.dumps(body),
                         timeout=30)
    return _http(resp).json()


def b64(blob):
    return {"b64": base64.b64encode(blob).decode()}


def tfs_rest_input_shapes(server, model):
    resp = _http(requests.get(f"{server.rest_url}/v1/models/{model}/metadata", timeout=30)).json()
    sig = resp["metadata"]["signature_def"]["signature_def"]["serving_default"]
    shapes = lambda d: {k: [int(x["size"]) for x in v["tensor_shape"]["dim"]] for k, v in d.items()}
    return shapes(sig["inputs"]), shapes(sig["outputs"])


# --- KServe gRPC ------------------------------------------------------------

def kserve_grpc_infer(server, model, images=None, array=None, raw=True, name="data",
                      prefixed=True):
    """ModelInfer with `images` (BYTES; raw_input_contents length-prefixed when
    `raw`, else bytes_contents) or a float32 `array`; returns {name: array}.
    `prefixed=False` sends one raw image without its length prefix."""
    req = kpb.ModelInferRequest(model_name=model)
    tensor = req.inputs.add(name=name)
    if images is not None:
        tensor.datatype, tensor.shape[:] = "BYTES", [len(images)]
        if raw:
            req.raw_input_contents.append(length_prefixed(images) if prefixed else images[0])
        else:
            tensor.contents.bytes_contents.extend(images)
    else:
        tensor.datatype, tensor.shape[:] = "FP32", list(array.shape)
        req.raw_input_contents.append(np.ascontiguousarray(array, np.float32).tobytes())
    resp = _grpc(lambda: server.stub.ModelInfer(req, timeout=30))
    return {o.name: np.frombuffer(resp.raw_output_contents[i], np.float32).reshape(o.shape)
            for i, o in enumerate(resp.outputs)}


def kserve_grpc_input_shapes(server, model):
    resp = _grpc(lambda: server.stub.ModelMetadata(kpb.ModelMetadataRequest(name=model),
                                                   timeout=30))
    return ({t.name: list(t.shape) for t in resp.inputs},
            {t.name: list(t.shape) for t in resp.outputs})


# --- KServe REST ------------------------------------------------------------

def _kserve_rest_outputs(reply):
    return {o["name"]: np.array(o["data"], np.float32).reshape(o["shape"])
            for o in reply["outputs"]}


def kserve_rest_infer(server, model, images=None, array=None, binary=True, name="data",
                      prefixed=True):
    """POST …/infer with `images` (BYTES: binary extension, length-prefixed
    unless `prefixed=False` for one image, or base64 strings in JSON) or a
    float32 `array` (JSON); returns {name: array}."""
    url = f"{server.rest_url}/v2/models/{model}/infer"
    if images is None:
        body = {"inputs": [{"name": name, "shape": list(array.shape), "datatype": "FP32",
                            "data": np.asarray(array, np.float32).ravel().tolist()}]}
        return _kserve_rest_outputs(_http(requests.post(url, data=json.dumps(body), timeout=30)).json())
    tensor = {"name": name, "shape": [len(images)], "datatype": "BYTES"}
    if not binary:
        tensor["data"] = [base64.b64encode(i).decode() for i in images]
        return _kserve_rest_outputs(_http(requests.post(url, data=json.dumps({"inputs": [tensor]}),
                                                        timeout=30)).json())
    blob = length_prefixed(images) if prefixed else images[0]
    tensor["parameters"] = {"binary_data_size": len(blob)}
    header = json.dumps({"inputs": [tensor]}).encode()
    resp = requests.post(url, data=header + blob, timeout=30,
                         headers={HEADER_LENGTH: str(len(header)),
                                  "Content-Type": "application/octet-stream"})
    return _kserve_rest_outputs(_http(resp).json())


def kserve_rest_input_shapes(server, model):
    resp = _http(requests.get(f"{server.rest_url}/v2/models/{model}", timeout=30)).json()
    return ({t["name"]: t["shape"] for t in resp["inputs"]},
            {t["name"]: t["shape"] for t in resp["outputs"]})


def input_shapes_everywhere(server, model):
    """[(inputs, outputs) shapes] as the four front doors report them."""
    return [f(server, model) for f in (tfs_grpc_input_shapes, tfs_rest_input_shapes,
                                       kserve_grpc_input_shapes, kserve_rest_input_shapes)]
