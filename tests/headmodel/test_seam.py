"""The head-model seam stays a seam: only the ICT adapter spells ICT FaceKit's materials, sub-mesh ranges and
expression names.

Stages ask the model by role (``model.part_mask("face")``, ``model.material_mask("overlay")``,
``model.atlas_cell("teeth")``) and for expression shapes by canonical ARKit name
(``model.expression_index("eyeBlinkLeft")``); a material name such as ``M_Face``, a sub-mesh boundary such as
``11248`` or an ICT expression spelling such as ``eyeBlink_L`` in a stage would tie it to ICT again. Checked by
reading the source text of every module outside ``headmodel/`` (the package, the web page's JavaScript and the
scripts); data files are not code and are not read.
"""

import re
from pathlib import Path

import pytest

from headcast.headmodel.base import ARKIT_EXPRESSIONS, EXTRA_EXPRESSIONS
from headcast.headmodel.ict import ICT_ATLAS, ICT_MATERIAL_ROLES, ICT_NARROW_FACE_STOP, ICT_PARTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "headcast"
ADAPTERS = PACKAGE / "headmodel"

MATERIAL = re.compile(r"\bM_[A-Z][A-Za-z]*\b")
"""ICT's material naming (``M_Face``, ``M_GumsTongue``, ``M_IrisLeft``, ...)."""

ICT_EXPRESSION = re.compile(r"""\b[a-z]+[A-Z][A-Za-z]*_[LR*](?!\w)|["']_[LR]["']|\bPupilDilate""")
"""ICT's expression spelling: a camelCase shape name with ICT's side suffix (``eyeBlink_L``, ``mouthSmile_R``,
``cheekRaiser_*``), the suffix itself as a string literal (``"_L"``, built names such as ``base + "_R"``), and ICT's
capitalised ``PupilDilate``. The camelCase part keeps snake_case and maths (``b_L``, ``SCLERA_PUPIL_R``) out."""


def _ict_numbers() -> set[int]:
    """Sub-mesh boundaries of ICT's parts and the end of its narrow face area (0 is everywhere, so left out)."""
    bounds = {b for rng in ICT_PARTS.values() for b in rng} | {ICT_NARROW_FACE_STOP}
    return {b for b in bounds if b > 0}


def _sources() -> list[Path]:
    files = [p for p in PACKAGE.rglob("*.py") if ADAPTERS not in p.parents]
    files += sorted((ROOT / "web" / "src").glob("*.js")) + sorted((ROOT / "scripts").glob("*.py"))
    return files


def _violations(text: str, numbers: set[int]) -> list[str]:
    """What in ``text`` names ICT's materials or part ranges."""
    found = sorted(set(MATERIAL.findall(text)))
    found += sorted(set(ICT_EXPRESSION.findall(text)))
    found += [n for n in sorted({int(x) for x in re.findall(r"(?<![\w.,])\d{4,5}(?![\w.])", text)}) if n in numbers]
    return [str(f) for f in found]


def test_the_patterns_catch_what_they_are_for() -> None:
    numbers = _ict_numbers()
    assert _violations('names = ("M_Face", "M_EyeLashes")\na, b = 11248, 13294\n', numbers) == [
        "M_EyeLashes", "M_Face", "11248", "13294",
    ]
    assert _violations('x = "M_ at the start of nothing"  # 1.11248 m; id 511248\n', numbers) == []
    sample = ('FIT = ("jawOpen", "eyeBlink_L")\n'
              'if n.startswith("PupilDilate"): side = base + "_R"  # ``cheekRaiser_*``\n')
    assert _violations(sample, numbers) == ['"_R"', "PupilDilate", "cheekRaiser_*", "eyeBlink_L"]
    # not caught: canonical names, snake_case, constants, maths
    clean = ('FIT = ("jawOpen", "eyeBlinkLeft", "pupilDilateRight", "browInnerUp")\n'
             "SCLERA_PUPIL_R = 0.042; z = W_L h + b_L; left_R = 1; fade_L(x); `x_L`\n")
    assert _violations(clean, numbers) == []
    for name in ARKIT_EXPRESSIONS + EXTRA_EXPRESSIONS:
        assert not ICT_EXPRESSION.search(f'"{name}"'), name
    # every material name and part boundary the adapter holds is caught
    for names in ICT_MATERIAL_ROLES.values():
        for name in names:
            assert MATERIAL.fullmatch(name), name
    assert set(ICT_ATLAS) == {n for names in ICT_MATERIAL_ROLES.values() for n in names}
    assert {11248, 17039, 26719, ICT_NARROW_FACE_STOP} <= numbers


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_adapter_names_ict_materials_or_parts(path: Path) -> None:
    found = _violations(path.read_text(encoding="utf-8"), _ict_numbers())
    assert not found, (
        f"{path.relative_to(ROOT)} names ICT FaceKit's {found}: ask the model by role or ARKit name instead "
        "(model.part_mask, model.material_mask, model.atlas_cell, model.expression_ids; headmodel/DESIGN.md)"
    )


def test_every_ict_material_has_a_role_and_a_cell(ict_model) -> None:
    assert sorted(ict_model.material_names) == sorted(ICT_ATLAS)
    roles = [ict_model.material_role(m) for m in range(len(ict_model.material_names))]
    assert set(roles) == set(ICT_MATERIAL_ROLES)
    for role in ICT_MATERIAL_ROLES:
        assert ict_model.has_material(role)
        assert ict_model.atlas_cells(role)


def test_every_ict_expression_has_a_canonical_name(ict_model) -> None:
    canonical = ict_model.expression_arkit_names
    assert all(canonical) and len(set(canonical)) == ict_model.num_expressions
    # every ICT shape name is caught by the pattern, so a stage that spells one fails the test above
    for name in ict_model.expression_names:
        if name not in ARKIT_EXPRESSIONS:
            assert ICT_EXPRESSION.search(name), name
    # ICT's _L is the subject's left, ARKit's Left (fitting/blendshapes.py's pairing; docs/conventions.md)
    assert ict_model.expression_names[ict_model.expression_index("eyeBlinkLeft")] == "eyeBlink" + "_L"
    assert ict_model.expression_ids("browInnerUp") == ict_model.expression_ids("browInnerUpLeft", "browInnerUpRight")
    assert set(ARKIT_EXPRESSIONS) - set(canonical) == {"browInnerUp", "cheekPuff", "tongueOut"}
    with pytest.raises(KeyError, match="tongueOut"):
        ict_model.expression_ids("tongueOut")
    with pytest.raises(KeyError, match="splits"):
        ict_model.expression_index("cheekPuff")
