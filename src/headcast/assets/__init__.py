"""Model files: where they come from, where they are looked for, and their checksums."""

from headcast.assets.registry import ASSETS, AssetSpec
from headcast.assets.resolver import AssetSettings, resolve_asset

__all__ = ["ASSETS", "AssetSettings", "AssetSpec", "resolve_asset"]
