"""The texture stage's output."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.texture.lighting import ShLighting


@dataclass(frozen=True, eq=False)
class UVTexture:
    """A texture atlas for the head model.

    Attributes:
        image: ``(S, S, 3)`` uint8 sRGB, row 0 = top (texel row = (1 − v) · S for atlas coordinate v).
        uv: ``(U, 2)`` float32 atlas coordinates in [0, 1]², origin bottom-left, one per model UV
            (replaces the model's multi-tile UVs; same indexing as ``LinearHeadModel.uv``).
        coverage: ``(S, S)`` float32 in [0, 1]: how much of each texel came from the photo (0 = completed).
        lighting: the photo's lighting estimated on the face's skin, camera frame (``TextureSettings.delight``);
            None when not estimated.
        delight_strength: how much of that lighting was divided out of the photo (the plausibility guard,
            :func:`~headcast.texture.albedo.lighting_guard`, in [0, 1]; 1 = an albedo texture, 0 = the photo's
            shading kept).
        delight_map: ``(S, S)`` uint8, row 0 = top: the fraction (× 255) of that lighting divided out of each texel
            (:func:`~headcast.texture.albedo.delight_map`: less over eyes, brows, lips and nostrils); None:
            ``delight_strength`` everywhere.
    """

    image: NDArray[np.uint8]
    uv: NDArray[np.float32]
    coverage: NDArray[np.float32]
    lighting: ShLighting | None = None
    delight_strength: float = 0.0
    delight_map: NDArray[np.uint8] | None = None
