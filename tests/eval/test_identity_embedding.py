import math

import numpy as np
import pytest

from headcast.eval.crops import PixelBox
from headcast.eval.identity import (
    FaceBox,
    difd,
    facenet_crop_box,
    identity_distance,
    l2_distance,
    l2_normalise,
    largest_face,
    prewhiten,
)
from testhelp import load_rgb

SAME_A, SAME_B, OTHER = "webmorph_lisa1.jpg", "webmorph_zoom_30cm.jpg", "london_037_neutral.jpg"


# ------------------------------------------------------------------------------------------------ pure maths


def test_difd_analytic_cases():
    rng = np.random.default_rng(0)
    v = rng.normal(size=512)
    assert difd(v, v) == 0.0
    assert difd(v, 3.7 * v) == pytest.approx(0.0, abs=1e-12)  # scale-invariant: embeddings are normalised
    assert difd(v, -v) == pytest.approx(2.0)
    e0, e1 = np.eye(4)[0], np.eye(4)[1]
    assert difd(e0, 5 * e1) == pytest.approx(math.sqrt(2))
    assert l2_distance(e0, 5 * e1) == pytest.approx(math.sqrt(26))


def test_l2_normalise_batches_and_zero():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(l2_normalise(x), [[0.6, 0.8], [0.0, 0.0]])


def test_largest_face_and_box_area():
    small, big = FaceBox(0, 0, 10, 10), FaceBox(5, 5, 30, 25)
    assert big.area == 500
    assert largest_face([small, big]) is big
    assert largest_face([]) is None


def test_facenet_crop_box_is_square_and_centred():
    box = FaceBox(100, 200, 180, 300)  # 80 × 100, centre (140, 250)
    assert facenet_crop_box(box, margin=0.5) == PixelBox(65, 175, 215, 325)  # side 150
    assert facenet_crop_box(box, margin=0.0) == PixelBox(90, 200, 190, 300)


def test_prewhiten_standardises():
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
    out = prewhiten(face)
    assert out.dtype == np.float32
    assert float(out.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(out.std()) == pytest.approx(1.0, abs=1e-5)
    flat = prewhiten(np.full((4, 4, 3), 9, np.uint8))  # zero variance: no division by zero
    assert np.isfinite(flat).all() and not flat.any()


# --------------------------------------------------------------------------------------------------- detector


def test_detector_finds_the_face(face_detector, portraits_dir):
    img = load_rgb(portraits_dir / SAME_B)  # 1152 × 1536, detected on a 480 × 640 copy
    boxes = face_detector.detect_faces(img)
    assert len(boxes) == 1
    b = boxes[0]
    assert 0 <= b.x0 < b.x1 <= img.shape[1] and 0 <= b.y0 < b.y1 <= img.shape[0]
    assert 0.2 < (b.x1 - b.x0) / img.shape[1] < 0.8  # a portrait: the face spans a good part of the width
    assert b.score > 0


def test_no_face_gives_none(face_detector, facenet, dlib_embedder):
    blank = np.full((300, 300, 3), 128, np.uint8)
    assert face_detector.detect_faces(blank) == []
    assert facenet.embed_face(blank) is None
    assert dlib_embedder.embed_face(blank) is None
    assert identity_distance(blank, blank, facenet) is None


# -------------------------------------------------------------------------------------------------- embedders


def test_facenet_embedding_shape_and_identity(facenet, portraits_dir):
    img = load_rgb(portraits_dir / SAME_A)
    e = facenet.embed_face(img)
    assert e is not None and e.model == "facenet"
    assert e.vector.shape == (512,) and e.vector.dtype == np.float32
    assert float(np.linalg.norm(e.vector)) == pytest.approx(1.0, abs=1e-5)
    assert identity_distance(img, img, facenet) == 0.0


def test_dlib_embedding_shape_and_identity(dlib_embedder, portraits_dir):
    img = load_rgb(portraits_dir / SAME_A)
    e = dlib_embedder.embed_face(img)
    assert e is not None and e.model == "dlib"
    assert e.vector.shape == (128,)
    assert identity_distance(img, img, dlib_embedder) == 0.0


@pytest.mark.parametrize("embedder_name", ["facenet", "dlib_embedder"])
def test_same_person_closer_than_different_person(request, portraits_dir, embedder_name):
    embedder = request.getfixturevalue(embedder_name)
    a, b, other = (embedder.embed_face(load_rgb(portraits_dir / n)) for n in (SAME_A, SAME_B, OTHER))
    assert a is not None and b is not None and other is not None
    same = embedder.distance(a, b)
    assert same < embedder.distance(a, other)
    assert same < embedder.distance(b, other)
    assert same < embedder.same_person_below
    if embedder.name == "dlib":  # dlib's documented threshold separates these three photos
        assert embedder.distance(a, other) > embedder.same_person_below


@pytest.mark.parametrize("embedder_name", ["facenet", "dlib_embedder"])
def test_distance_grows_with_noise(request, portraits_dir, embedder_name):
    embedder = request.getfixturevalue(embedder_name)
    img = load_rgb(portraits_dir / SAME_B, (576, 768))
    rng = np.random.default_rng(0)

    def noisy(sigma):
        return np.clip(img + rng.normal(0.0, sigma, img.shape), 0, 255).astype(np.uint8)

    d_small = identity_distance(img, noisy(8), embedder)
    d_large = identity_distance(img, noisy(60), embedder)
    assert d_small is not None and d_large is not None
    assert 0.0 < d_small < d_large
    assert d_small < embedder.same_person_below
