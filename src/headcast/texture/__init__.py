"""UV texture atlas from the photo, with completion of unseen regions and materials for eyes and teeth."""

from headcast.texture.bake import bake_texture
from headcast.texture.settings import TextureSettings
from headcast.texture.types import UVTexture

__all__ = ["TextureSettings", "UVTexture", "bake_texture"]
