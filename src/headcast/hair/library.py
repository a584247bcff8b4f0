"""The hairstyle library: authored generator styles, real grooms and MakeHuman shells, by name.

Authored generator parameter sets live in ``data/styles.json``; real grooms and shells are brought onto our head
by ``grooms.py``; ``thumbnails.py`` renders one picture per style. An entry is a
:class:`~headcast.hair.types.HairStyle`, defined in ``types.py`` so that ``grooms.py`` need not import this module.

Any style grows on any head (try-on): generated styles are re-grown on the target scalp; real grooms and shell
styles are aligned and re-rooted (``align.py``). Colours are separate from styles (``Strands.recoloured``).
"""

import json
from functools import lru_cache
from importlib import resources

from headcast.hair.types import HairParams, HairStyle


@lru_cache(maxsize=1)
def authored_styles() -> tuple[HairStyle, ...]:
    """The generator styles of ``data/styles.json``, in file order."""
    text = resources.files("headcast.hair").joinpath("data/styles.json").read_text(encoding="utf-8")
    data = json.loads(text)
    styles = []
    for entry in data["styles"]:
        params = None if entry["params"] is None else HairParams.from_json(entry["params"])
        styles.append(HairStyle(entry["name"], tuple(entry["tags"]), params))
    return tuple(styles)


def library_styles(include_assets: bool = True) -> tuple[HairStyle, ...]:
    """All styles: the authored ones, then (when ``include_assets``) the real grooms and the MakeHuman shells."""
    styles = list(authored_styles())
    if include_assets:
        from headcast.hair.grooms import asset_styles

        styles.extend(asset_styles())
    return tuple(styles)


def find_style(name: str, include_assets: bool = True) -> HairStyle:
    """The style called ``name``.

    Raises:
        KeyError: no such style (the message lists the known names).
    """
    styles = library_styles(include_assets)
    for s in styles:
        if s.name == name:
            return s
    raise KeyError(f"unknown hairstyle '{name}'; known: {', '.join(s.name for s in styles)}")
