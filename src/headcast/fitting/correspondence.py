"""Where MediaPipe's 478 landmarks sit on the head model's surface (a checked-in, regenerable table).

The table is built by ``scripts/make_correspondences.py`` (see :mod:`headcast.fitting.mediapipe_embedding`) and
stored in ``headcast/fitting/data/ict_mediapipe_correspondence.npz``. Each landmark is a point on one model
triangle: ``X_i = Σ_k bary[i, k] · V[triangles[face_ids[i], k]]``, so it follows identity and expression changes.
"""

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from headcast.geometry.mesh import barycentric_interpolate
from headcast.headmodel.base import LinearHeadModel

CORRESPONDENCE_FILE = "ict_mediapipe_correspondence.npz"

# MediaPipe's outer eye corners (subject's right, subject's left): the NME normaliser.
MP_RIGHT_EYE_OUTER = 33
MP_LEFT_EYE_OUTER = 263
MP_IRIS = tuple(range(468, 478))


@dataclass(frozen=True, eq=False)
class Correspondence:
    """MediaPipe landmark embedding on a head model.

    Attributes:
        model_name: the head model it belongs to (``LinearHeadModel.name``).
        num_triangles: ``len(model.triangles)`` of that model (a guard against a mismatched model).
        face_ids: ``(478,)`` int triangle index into ``model.triangles`` per MediaPipe landmark.
        barycentric: ``(478, 3)`` float weights on that triangle's corners (rows sum to 1).
        face_oval: ``(F,)`` MediaPipe ids of the face-oval loop (the canonical mesh's outer boundary), in order,
            starting at landmark 10 (top of the forehead) and running towards +x (the head's left) first.
        contour: ``(C,)`` the face-oval landmarks below the eyes (jaw line and cheeks), in ``face_oval`` order.
            They lie on the face's silhouette, which moves over the head as the head turns, so the fitter slides
            them (see ``contour_candidates``).
        contour_candidates: ``(C, M)`` model vertex ids, padded with −1: for each contour landmark, a slice of the
            face surface running from the landmark outwards (perpendicular to the oval in the frontal view),
            ordered from inside to outside. The fitter picks the slice vertex on the current silhouette.
    """

    model_name: str
    num_triangles: int
    face_ids: NDArray[np.int64]
    barycentric: NDArray[np.float64]
    face_oval: NDArray[np.int64]
    contour: NDArray[np.int64]
    contour_candidates: NDArray[np.int64]

    @property
    def num_landmarks(self) -> int:
        """478."""
        return int(self.face_ids.shape[0])

    def check_model(self, model: LinearHeadModel) -> None:
        """Raise ValueError when the table was not built for ``model``."""
        if model.name != self.model_name or len(model.triangles) != self.num_triangles:
            raise ValueError(
                f"landmark correspondence was built for '{self.model_name}' with {self.num_triangles} triangles, "
                f"not for '{model.name}' with {len(model.triangles)}"
            )


def landmark_points(
    vertices: NDArray[np.floating], triangles: NDArray[np.integer], corr: Correspondence
) -> NDArray[np.float64]:
    """The 478 MediaPipe landmark positions on a mesh.

    Args:
        vertices: ``(..., V, 3)`` model vertices (any frame, metres).
        triangles: ``(T, 3)`` the model's triangles.
        corr: the embedding.

    Returns:
        ``(..., 478, 3)`` points, ``X_i = Σ_k bary[i, k] · V[triangles[face_ids[i], k]]``.
    """
    return barycentric_interpolate(vertices, triangles, corr.face_ids, corr.barycentric)


def load_correspondence(path: Path | None = None) -> Correspondence:
    """Load the embedding table (default: the one shipped in the package for ICT FaceKit).

    Args:
        path: an ``.npz`` written by :func:`save_correspondence`; None for the packaged file.
    """
    if path is None:
        data = resources.files("headcast.fitting").joinpath("data", CORRESPONDENCE_FILE).read_bytes()
    else:
        data = Path(path).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return Correspondence(
            model_name=str(z["model_name"]),
            num_triangles=int(z["num_triangles"]),
            face_ids=z["face_ids"].astype(np.int64),
            barycentric=z["barycentric"].astype(np.float64),
            face_oval=z["face_oval"].astype(np.int64),
            contour=z["contour"].astype(np.int64),
            contour_candidates=z["contour_candidates"].astype(np.int64),
        )


def save_correspondence(corr: Correspondence, path: Path) -> None:
    """Write the table as a byte-reproducible ``.npz`` (fixed member order and timestamps, compact dtypes)."""
    arrays: dict[str, NDArray[np.generic]] = {
        "model_name": np.array(corr.model_name),
        "num_triangles": np.array(corr.num_triangles, dtype=np.int64),
        "face_ids": corr.face_ids.astype(np.int32),
        "barycentric": corr.barycentric.astype(np.float32),
        "face_oval": corr.face_oval.astype(np.int32),
        "contour": corr.contour.astype(np.int32),
        "contour_candidates": corr.contour_candidates.astype(np.int32),
    }
    write_reproducible_npz(path, arrays)


def write_reproducible_npz(path: Path | str, arrays: Mapping[str, NDArray[np.generic]]) -> None:
    """Write ``arrays`` as an ``.npz`` whose bytes depend on the arrays only (sorted members, fixed timestamps).

    The packaged tables are regenerable and checked into git: the same inputs must give the same file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arrays[key], allow_pickle=False)
            zf.writestr(info, buf.getvalue())
