"""Hostile images: a tiny JPEG (or PNG) whose header declares 30000x30000 is
refused on every front door before it is decoded (fast, no memory spike),
truncated images are refused, and --max_image_pixels sets the limit."""
import struct
import time
import zlib

import cv2
import numpy as np
import pytest

import make_example_models as models
from conftest import Tessera, run_tessera, write_config
from four_doors import (WireError, b64, kserve_grpc_infer, kserve_rest_infer, tfs_grpc_predict,
                        tfs_rest_predict)

DEFAULT_LIMIT = 16777216
BOMB_MESSAGE = ("Invalid image 0 of input data: declared size 30000x30000 (WxH) exceeds "
                f"--max_image_pixels ({DEFAULT_LIMIT})")


def pattern(h, w, seed=0):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(40 * seed + 3 * x + 5 * y + 60 * c) % 256 for c in range(3)],
                    axis=-1).astype(np.uint8)


def encode(img, ext):
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def jpeg_declaring(w, h):
    """An 8x8 JPEG whose SOF0 frame header is patched to declare w x h."""
    data = bytearray(encode(pattern(8, 8), ".jpg"))
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5:sof + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def png_declaring(w, h):
    """An 8x8 PNG whose IHDR declares w x h (CRC fixed up)."""
    data = bytearray(encode(pattern(8, 8), ".png"))
    data[16:24] = struct.pack(">II", w, h)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


BOMB = jpeg_declaring(30000, 30000)
PNG_BOMB = png_declaring(30000, 30000)
GOOD = encode(pattern(32, 32, 1), ".jpg")
JPEG = encode(pattern(32, 32, 2), ".jpg")
PNG = encode(pattern(32, 32, 2), ".png")


def send(door, server, model, images):
    """Infers `images` through `door`; returns the "probs" output."""
    if door == "tfs_grpc":  # DT_STRING string_val
        return tfs_grpc_predict(server, model, images=images)["probs"]
    if door == "tfs_rest_row":  # {"b64": ...} instances
        return np.array(tfs_rest_predict(server, model, {"instances": [b64(i) for i in images]})
                        ["predictions"], np.float32)
    if door == "tfs_rest_column":
        return np.array(tfs_rest_predict(server, model, {"inputs": {"data": [b64(i) for i in images]}})
                        ["outputs"], np.float32)
    if door == "kserve_grpc_contents":  # bytes_contents
        return kserve_grpc_infer(server, model, images=images, raw=False)["probs"]
    if door == "kserve_grpc_raw":
        return kserve_grpc_infer(server, model, images=images, raw=True)["probs"]
    if door == "kserve_rest_binary":  # binary data extension
        return kserve_rest_infer(server, model, images=images, binary=True)["probs"]
    if door == "kserve_rest_json":  # BYTES as base64 in JSON
        return kserve_rest_infer(server, model, images=images, binary=False)["probs"]
    raise ValueError(door)


DOORS = ["tfs_grpc", "tfs_rest_row", "tfs_rest_column", "kserve_grpc_contents",
         "kserve_grpc_raw", "kserve_rest_binary", "kserve_rest_json"]


def refused(call):
    """(code, message) of a call that must fail with 400 / INVALID_ARGUMENT."""
    with pytest.raises(WireError) as e:
        call()
    assert e.value.code in ("INVALID_ARGUMENT", 400), e.value
    return e.value.message


def peak_rss_kb(server):
    for line in open(f"/proc/{server.proc.pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def pixels_as_floats(blob):
    return cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED).astype(np.float32)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bomb")
    models.make_classifier(str(root / "classifier" / "1"))  # NCHW (-1,3,32,32)
    write_config(root / "config.json", [
        {"name": "classifier", "base_path": "classifier", "layout": "NHWC:NCHW"},
        {"name": "classifier_any", "base_path": "classifier", "layout": "NHWC:NCHW",
         "shape": "(-1,3,-1,-1)"},
    ])
    return root


@pytest.fixture(scope="module")
def server(root):
    s = Tessera(["--config_path", str(root / "config.json")], root).start()
    yield s
    assert s.stop() == 0, s.logs()


def test_bomb_is_small():
    assert len(BOMB) < 1024 and len(PNG_BOMB) < 1024
    assert cv2.imdecode(np.frombuffer(encode(pattern(8, 8), ".jpg"), np.uint8),
                        cv2.IMREAD_UNCHANGED).shape == (8, 8, 3)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("model", ["classifier", "classifier_any"])
def test_bomb_is_refused_fast_without_memory(server, door, model):
    send(door, server, "classifier", [GOOD])  # warm the door up
    before = peak_rss_kb(server)
    for bomb in (BOMB, PNG_BOMB):
        start = time.monotonic()
        message = refused(lambda: send(door, server, model, [bomb]))
        elapsed = time.monotonic() - start
        assert message == BOMB_MESSAGE
        assert elapsed < 2.0, f"{door}: {elapsed:.2f}s"
    grown_mb = (peak_rss_kb(server) - before) / 1024
    assert grown_mb < 100, f"{door}: peak RSS grew by {grown_mb:.0f} MB"


@pytest.mark.parametrize("door", DOORS)
def test_valid_image_still_classifies(server, door):
    refused(lambda: send(door, server, "classifier", [BOMB]))
    got = send(door, server, "classifier", [GOOD, JPEG])
    expected = kserve_grpc_infer(server, "classifier",
                                 array=np.stack([pixels_as_floats(GOOD), pixels_as_floats(JPEG)]))
    np.testing.assert_allclose(got, expected["probs"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("door", ["tfs_grpc", "tfs_rest_row", "kserve_grpc_contents",
                                  "kserve_rest_binary", "kserve_rest_json"])
@pytest.mark.parametrize("images,message", [
    ([GOOD, JPEG[:len(JPEG) // 2]],
     "Invalid image 1 of input data: truncated JPEG data (no end-of-image marker)"),
    ([PNG[:len(PNG) // 2]], "Invalid image 0 of input data: truncated PNG data (no IEND chunk)"),
    # Cut inside the scan data, end-of-image marker put back: libjpeg alone
    # would answer with a gray bottom half.
    ([JPEG[:JPEG.find(b"\xff\xda") + (len(JPEG) - JPEG.find(b"\xff\xda")) // 2] + b"\xff\xd9"],
     "Invalid image 0 of input data: corrupt JPEG data (premature end of data segment)"),
    ([jpeg_declaring(64, 64)],
     "Invalid image 0 of input data: corrupt JPEG data (premature end of data segment)"),
    ([GOOD, GOOD, PNG[:-12]], "Invalid image 2 of input data: truncated PNG data (no IEND chunk)"),
    ([PNG[:45] + bytes([PNG[45] ^ 1]) + PNG[46:]],
     "Invalid image 0 of input data: corrupt PNG data (CRC mismatch in chunk IDAT)"),
    ([encode(pattern(32, 32), ".bmp")],
     "Invalid image 0 of input data: not an image in a supported format (JPEG or PNG; got "
     f"{len(encode(pattern(32, 32), '.bmp'))} bytes)"),
])
def test_truncated_and_corrupt_images(server, door, images, message):
    assert refused(lambda: send(door, server, "classifier", images)) == message


def test_small_limit_refuses_a_normal_image(root, start_tessera):
    small = start_tessera("--config_path", str(root / "config.json"), "--max_image_pixels", "1023")
    for door in ("tfs_grpc", "kserve_rest_binary"):
        assert refused(lambda: send(door, small, "classifier", [GOOD])) == (
            "Invalid image 0 of input data: declared size 32x32 (WxH) exceeds "
            "--max_image_pixels (1023)")
    exact = start_tessera("--config_path", str(root / "config.json"), "--max_image_pixels", "1024")
    assert send("kserve_grpc_raw", exact, "classifier", [GOOD]).shape == (1, 10)


@pytest.mark.parametrize("value,message", [
    ("0", "--max_image_pixels must be between 1 and 1073741824 (got 0)"),
    ("abc", '--max_image_pixels must be an integer (got "abc")'),
    ("1073741825", "--max_image_pixels must be between 1 and 1073741824 (got 1073741825)"),
])
def test_bad_limit_exits_1_with_one_line(root, value, message):
    result = run_tessera(["--config_path", str(root / "config.json"), "--max_image_pixels", value])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [message]
