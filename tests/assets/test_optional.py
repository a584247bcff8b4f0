import sys

import pytest

from headcast.assets.optional import TORCH_PIP, import_optional
from headcast.errors import OptionalComponentError
from headcast.eval import deps


def test_missing_module_raises_an_optional_component_error_naming_the_command():
    with pytest.raises(OptionalComponentError) as info:
        import_optional("headcast_no_such_module_xyz", "pip install nothing-here==1.0", needed_by="Face parsing")
    assert type(info.value) is OptionalComponentError and info.value.exit_code == 7
    lines = str(info.value).splitlines()
    assert lines[0].startswith("Face parsing needs the Python module 'headcast_no_such_module_xyz'")
    assert lines[1:] == ["Install it with: pip install nothing-here==1.0"]


def test_error_type_and_hint_are_the_callers():
    class Special(OptionalComponentError):
        pass

    with pytest.raises(Special, match=r"nothing-here==1\.0\nsee the docs$"):
        import_optional("headcast_no_such_module_xyz", "pip install nothing-here==1.0", hint="see the docs",
                        error=Special)


def test_present_module_is_returned():
    assert import_optional("json", "pip install json") is sys.modules["json"]


def test_the_evaluation_uses_the_same_helper_and_names():
    assert deps.TORCH_PIP is TORCH_PIP
    with pytest.raises(deps.MissingEvalDependencyError) as info:
        deps.import_optional("headcast_no_such_module_xyz", "pip install nothing-here==1.0")
    assert str(info.value).splitlines() == [
        "The evaluation needs the Python module 'headcast_no_such_module_xyz', which is not installed "
        "(No module named 'headcast_no_such_module_xyz').",
        "Install it with: pip install nothing-here==1.0",
        "(or all evaluation extras at once: see docs/dependencies.md, 'Evaluation').",
    ]
