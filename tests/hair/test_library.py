from pathlib import Path

import numpy as np
import pytest

from headcast.hair.library import authored_styles, find_style, library_styles
from headcast.options import parse_hex_color


def test_library_has_the_required_styles() -> None:
    styles = library_styles()
    names = [s.name for s in styles]
    assert len(set(names)) == len(names)
    assert len(authored_styles()) >= 24
    for needed in ("buzz", "short", "side_part_medium", "bob", "fringe_short", "long_straight", "long_wavy",
                   "curly_short", "afro", "ponytail", "bun", "braid", "mohawk", "bald",
                   "tressfx_ponytail", "ratboy_mohawk", "sintel_short", "mh_long01"):
        assert needed in names
    assert find_style("bald").bald
    with pytest.raises(KeyError, match="unknown hairstyle"):
        find_style("mullet_2000")


def test_hex_colours() -> None:
    assert parse_hex_color("#ff8000") == (1.0, 128 / 255, 0.0)
    with pytest.raises(ValueError):
        parse_hex_color("#ff80")


def test_every_style_grows_on_a_head(hair_head, tmp_path: Path) -> None:
    from headcast.hair.align import alignment_report
    from headcast.hair.generator import GrowSettings
    from headcast.hair.stage import style_strands

    grow = GrowSettings(render_strands=1500, render_points=12)
    for style in library_styles():
        s = style_strands(style.name, hair_head, grow)
        if style.bald:
            assert s is None
            continue
        assert s is not None and s.num_strands >= 1500, style.name
        assert np.isfinite(s.points).all()
        report = alignment_report(list(s.points), hair_head.sdf, tolerance=0.001)
        assert report.penetration < 0.01, (style.name, report)
