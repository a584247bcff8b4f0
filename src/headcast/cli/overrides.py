"""Settings overrides written on a command line: ``"key=value,key=value"`` → a dataclass's fields.

Used by ``headcast eval --fit/--texture`` and the study scripts for ablations, so that a measured variant is a
command anyone can rerun. Each value is converted to the type of the field's default: ``bool`` (``1/true/yes/on``
or ``0/false/no/off``), ``int``, ``float``, ``tuple`` (items joined by ``+``, each converted like the default's
first item), anything else as the string itself (e.g. a ``Literal`` or a path); ``none`` is None.
"""

import dataclasses
from typing import TypeVar

SettingsT = TypeVar("SettingsT")

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def parse_overrides(text: str, settings_type: type) -> dict[str, object]:
    """``"key=value,..."`` → ``{field: converted value}`` for ``dataclasses.replace(settings, **result)``.

    Args:
        text: comma-separated ``key=value`` items (empty: no overrides).
        settings_type: a dataclass whose fields all have defaults (e.g. ``FitSettings``).

    Raises:
        ValueError: an item without ``=``, a name that is not a field, or a value that does not convert.

    Example:
        >>> from headcast.fitting.settings import FitSettings
        >>> parse_overrides("noise_role=all,contour_rounds=2,depth_weight=0", FitSettings)
        {'noise_role': 'all', 'contour_rounds': 2, 'depth_weight': 0.0}
    """
    fields = {f.name for f in dataclasses.fields(settings_type)}
    defaults = settings_type()
    out: dict[str, object] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"'{item}' is not key=value")
        if key not in fields:
            raise ValueError(f"{settings_type.__name__} has no field '{key}'")
        out[key] = _convert(value.strip(), getattr(defaults, key), f"{settings_type.__name__}.{key}")
    return out


def apply_overrides(settings: SettingsT, text: str) -> SettingsT:
    """``settings`` (a dataclass instance) with the fields ``text`` names replaced (:func:`parse_overrides`).

    Raises:
        ValueError: as :func:`parse_overrides`.
    """
    changes = parse_overrides(text, type(settings))
    return dataclasses.replace(settings, **changes) if changes else settings  # type: ignore[type-var]


def _convert(value: str, default: object, name: str) -> object:
    """``value`` as the type of ``default`` (module docstring)."""
    low = value.lower()
    if low == "none":
        return None
    try:
        if isinstance(default, bool):
            if low not in TRUE + FALSE:
                raise ValueError(value)
            return low in TRUE
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise ValueError(f"{name}: cannot read '{value}' as {type(default).__name__}") from None
    if isinstance(default, tuple):  # items as the default's first item (strings when it is empty)
        like = default[0] if default else ""
        return tuple(_convert(v, like, name) for v in value.split("+") if v)
    return value
