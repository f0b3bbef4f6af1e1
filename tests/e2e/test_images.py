"""Encoded images (JPEG, PNG) sent as BYTES to 4-D inputs over all four front
doors: decoded by the server, compared with the same pixels sent as a float
tensor and with python3-torch; and every image error, as 400 /
INVALID_ARGUMENT naming the input and the image index."""
import json

import cv2
import numpy as np
import pytest

import make_example_models as models
from conftest import Tessera, torch_reference, write_config
from four_doors import (WireError, b64, kserve_grpc_infer, kserve_rest_infer,
                        input_shapes_everywhere, tfs_grpc_predict, tfs_rest_predict)

RTOL = 1e-5
ATOL = 1e-6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    models.make_classifier(str(root / "classifier" / "1"))              # NCHW (-1,3,32,32)
    models.make_classifier(str(root / "gray" / "1"), channels=1, nhwc=True, size=-1)
    models.make_dense(str(root / "dense" / "1"), seed=1)
    write_config(root / "config.json", [
        {"name": "classifier", "base_path": "classifier", "layout": "NHWC:NCHW"},
        {"name": "classifier_any", "base_path": "classifier", "layout": "NHWC:NCHW",
         "shape": "(-1,3,-1,-1)"},
        {"name": "classifier_nchw", "base_path": "classifier", "layout": "NCHW"},
        {"name": "gray", "base_path": "gray"},
        {"name": "dense", "base_path": "dense"},
    ])
    s = Tessera(["--config_path", str(root / "config.json")], root).start()
    s.root = root
    yield s
    assert s.stop() == 0, s.logs()


def pattern(h, w, channels, seed):
    """A smooth image (JPEG keeps it well) with some per-seed variation."""
    y, x = np.mgrid[0:h, 0:w]
    planes = [(40 * seed + 3 * x + 5 * y + 60 * c) % 256 for c in range(channels)]
    img = np.stack(planes, axis=-1).astype(np.uint8)
    return img[:, :, 0] if channels == 1 else img


def encode(img, ext):
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def pixels(blob, size=None):
    """What the server must make of `blob`: decoded without colour conversion,
    resized (bilinear) to `size` = (h, w) when given, as float32 HWC."""
    img = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED)
    if size is not None and img.shape[:2] != size:
        img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    if img.ndim == 2:
        img = img[:, :, None]
    return img.astype(np.float32)


def send_images(door, server, model, images):
    if door == "tfs_grpc":
        return tfs_grpc_predict(server, model, images=images)["probs"]
    if door == "tfs_rest_row":
        return np.array(tfs_rest_predict(server, model, {"instances": [b64(i) for i in images]})
                        ["predictions"], np.float32)
    if door == "tfs_rest_column":
        return np.array(tfs_rest_predict(server, model, {"inputs": {"data": [b64(i) for i in images]}})
                        ["outputs"], np.float32)
    if door == "kserve_grpc_contents":
        return kserve_grpc_infer(server, model, images=images, raw=False)["probs"]
    if door == "kserve_grpc_raw":
        return kserve_grpc_infer(server, model, images=images, raw=True)["probs"]
    if door == "kserve_rest_json":
        return kserve_rest_infer(server, model, images=images, binary=False)["probs"]
    if door == "kserve_rest_binary":
        return kserve_rest_infer(server, model, images=images, binary=True)["probs"]
    raise ValueError(door)


DOORS = ["tfs_grpc", "tfs_rest_row", "tfs_rest_column", "kserve_grpc_contents",
         "kserve_grpc_raw", "kserve_rest_json", "kserve_rest_binary"]


def check_against_floats(server, model, got, nhwc):
    """`got` equals the same pixels sent as a float tensor, and python3-torch
    run on them (transposed to NCHW for the NCHW classifier)."""
    floats = kserve_grpc_infer(server, model, array=nhwc)["probs"]
    np.testing.assert_allclose(got, floats, rtol=RTOL, atol=ATOL)
    directory = "gray" if model == "gray" else "classifier"
    torch_input = nhwc if model == "gray" else np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    expected, = torch_reference(server.root / directory / "1" / "model.pt", torch_input)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_colour_batch_of_three_with_transpose(server, door, ext):
    # 32x32 images: no resize; NHWC client data transposed into the NCHW model.
    images = [encode(pattern(32, 32, 3, seed), ext) for seed in range(3)]
    got = send_images(door, server, "classifier", images)
    assert got.shape == (3, 10)
    nhwc = np.stack([pixels(i) for i in images])
    check_against_floats(server, "classifier", got, nhwc)


@pytest.mark.parametrize("door", ["tfs_grpc", "tfs_rest_row", "kserve_grpc_raw",
                                  "kserve_rest_binary"])
def test_resize_to_the_static_size(server, door):
    images = [encode(pattern(40, 48, 3, 1), ".png"), encode(pattern(20, 24, 3, 2), ".jpg")]
    got = send_images(door, server, "classifier", images)
    nhwc = np.stack([pixels(i, (32, 32)) for i in images])
    check_against_floats(server, "classifier", got, nhwc)


@pytest.mark.parametrize("door", ["tfs_grpc", "tfs_rest_column", "kserve_grpc_contents",
                                  "kserve_rest_json"])
@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_gray_images_with_dynamic_size(server, door, ext):
    images = [encode(pattern(20, 28, 1, seed), ext) for seed in range(3)]
    got = send_images(door, server, "gray", images)
    nhwc = np.stack([pixels(i) for i in images])
    assert nhwc.shape == (3, 20, 28, 1)
    check_against_floats(server, "gray", got, nhwc)


def test_dynamic_dims_take_the_first_image_size(server):
    images = [encode(pattern(24, 40, 3, seed), ".png") for seed in range(2)]
    got = send_images("kserve_grpc_raw", server, "classifier_any", images)
    nhwc = np.stack([pixels(i) for i in images])
    check_against_floats(server, "classifier_any", got, nhwc)


@pytest.mark.parametrize("infer", [kserve_grpc_infer, kserve_rest_infer])
def test_one_image_without_length_prefix(server, infer):
    image = encode(pattern(32, 32, 3, 4), ".jpg")
    got = infer(server, "classifier", images=[image], prefixed=False)["probs"]
    check_against_floats(server, "classifier", got, pixels(image)[None])


def test_metadata_reports_the_client_layout(server):
    for inputs, outputs in input_shapes_everywhere(server, "classifier"):
        assert inputs == {"data": [-1, 32, 32, 3]}
        assert outputs == {"probs": [-1, 10]}
    for inputs, _ in input_shapes_everywhere(server, "classifier_any"):
        assert inputs == {"data": [-1, -1, -1, 3]}
    for inputs, _ in input_shapes_everywhere(server, "classifier_nchw"):
        assert inputs == {"data": [-1, 3, 32, 32]}


GOOD = encode(pattern(32, 32, 3, 0), ".jpg")
JPEG = encode(pattern(32, 32, 3, 1), ".jpg")
PNG = encode(pattern(32, 32, 3, 1), ".png")
ERRORS = [
    # (model, images, message fragment)
    ("classifier", [GOOD, JPEG[:20] + bytes(300) + b"\xff\xd9"],
     "Invalid image 1 of input data: corrupt JPEG data"),
    ("classifier", [GOOD, GOOD, JPEG[:len(JPEG) // 2]],
     "Invalid image 2 of input data: truncated JPEG data"),
    ("classifier", [PNG[:len(PNG) - 40]], "Invalid image 0 of input data: truncated PNG data"),
    ("classifier", [GOOD, b"GIF89a not really"],
     "Invalid image 1 of input data: not an image in a supported format"),
    ("classifier", [GOOD, encode(pattern(32, 32, 1, 0), ".png")],
     "Invalid image 1 of input data: it has 1 channel(s), the input takes 3"),
    ("gray", [encode(pattern(20, 28, 1, 0), ".png"), encode(pattern(20, 20, 1, 0), ".png")],
     "Invalid image 1 of input data: its size 20x20 (WxH) differs from image 0's 28x20"),
    ("dense", [GOOD], "Invalid input precision - Expected: FP32; Actual: BYTES; input name: x "
                      "(encoded images are only accepted by 4-D NHWC inputs; this one has "
                      "shape (-1,16))"),
    ("classifier_nchw", [GOOD], "Input data has layout NCHW; encoded images need NHWC"),
]


def expect_invalid(call, text):
    with pytest.raises(WireError) as e:
        call()
    assert e.value.code in ("INVALID_ARGUMENT", 400), e.value
    assert text in e.value.message


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("model,images,text", ERRORS)
def test_image_errors(server, door, model, images, text):
    if model == "dense":  # its input is "x"
        calls = {
            "tfs_grpc": lambda: tfs_grpc_predict(server, model, images=images, name="x"),
            "tfs_rest_column": lambda: tfs_rest_predict(
                server, model, {"inputs": {"x": [b64(i) for i in images]}}),
            "kserve_grpc_raw": lambda: kserve_grpc_infer(server, model, images=images, name="x"),
            "kserve_rest_binary": lambda: kserve_rest_infer(server, model, images=images, name="x"),
        }
        if door not in calls:
            pytest.skip("one door per protocol is enough for this case")
        return expect_invalid(calls[door], text)
    expect_invalid(lambda: send_images(door, server, model, images), text)


def test_server_keeps_serving_after_bad_images(server):
    for _ in range(3):
        expect_invalid(lambda: send_images("kserve_grpc_raw", server, "classifier",
                                           [b"\xff\xd8\xff garbage \xff\xd9"]), "corrupt JPEG")
    assert send_images("kserve_grpc_raw", server, "classifier", [GOOD]).shape == (1, 10)
