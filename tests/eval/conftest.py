"""Fixtures of the evaluation tests: metric models loaded once per session, skipped when a package is absent."""

import pytest
from evalhelp import require_package


@pytest.fixture(scope="session")
def stlpips_metric():
    pytest.importorskip("torch")
    require_package("stlpips_pytorch")
    from headcast.eval.image_metrics import STLPIPS

    metric = STLPIPS()
    metric.load()
    return metric


@pytest.fixture(scope="session")
def face_detector():
    pytest.importorskip("dlib")
    from headcast.eval.identity import DlibHogDetector

    return DlibHogDetector()


@pytest.fixture(scope="session")
def facenet(face_detector):
    pytest.importorskip("torch")
    require_package("tensorboardX")
    from headcast.assets.weights import MissingWeightsError, weight_path
    from headcast.eval.identity import FaceNetEmbedder

    try:
        weight_path("facenet")
    except MissingWeightsError as err:
        pytest.skip(f"the FaceNet graph is not in the weights folder ({err})")

    embedder = FaceNetEmbedder(face_detector)
    embedder.load()
    return embedder


@pytest.fixture(scope="session")
def dlib_embedder(face_detector):
    pytest.importorskip("face_recognition_models")
    from headcast.eval.identity import DlibEmbedder

    embedder = DlibEmbedder(face_detector)
    embedder.load()
    return embedder
