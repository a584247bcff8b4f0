"""Reading and writing the bundle's JSON documents (``params.json``, ``flame_params.json``) with their schemas."""

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from headcast.errors import HeadcastError

Doc = TypeVar("Doc", bound=BaseModel)


def write_document(path: Path | str, document: BaseModel) -> Path:
    """Write ``document`` as indented UTF-8 JSON with a final newline (parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def load_document(path: Path | str, schema: type[Doc], error: type[HeadcastError], what: str) -> Doc:
    """Read and validate a JSON document against ``schema``.

    Args:
        path: the file.
        schema: the pydantic model it must match.
        error: the error class raised on failure.
        what: the file's name in messages (``"params.json"``).

    Raises:
        error: missing file, not JSON, or not this schema (the message lists the bad fields).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise error(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return schema.model_validate_json(text)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in err.errors())
        raise error(f"{path} is not a valid headcast {what}: {problems}") from None
