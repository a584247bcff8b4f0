"""Python packages outside the base install: import one when it is needed, or say which command installs it.

Used by every stage that runs an optional network (face parsing needs torch) and by the evaluation
(:mod:`headcast.eval.deps` adds its metric packages on top). Weight files are the other half of an optional
component: :mod:`headcast.assets.weights`.
"""

import importlib
from types import ModuleType

from headcast.errors import OptionalComponentError

TORCH_PIP = "pip install torch==2.13.0"
"""The command that installs the torch build of the lock (the CPU wheel; extras ``hair`` and ``eval``)."""


def import_optional(
    module: str,
    pip: str,
    *,
    needed_by: str = "headcast",
    hint: str = "",
    error: type[OptionalComponentError] = OptionalComponentError,
) -> ModuleType:
    """Import ``module`` or fail with the command that installs it.

    Args:
        module: import name, e.g. ``"torch"``.
        pip: the install command quoted in the error message.
        needed_by: who needs it, the message's subject (``"The evaluation"``).
        hint: an extra line for the message (e.g. where a whole extra is described); none when empty.
        error: the :class:`~headcast.errors.OptionalComponentError` subclass raised.

    Raises:
        OptionalComponentError: (of type ``error``) the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        lines = [f"{needed_by} needs the Python module '{module}', which is not installed ({exc}).",
                 f"Install it with: {pip}", *([hint] if hint else [])]
        raise error("\n".join(lines)) from exc
