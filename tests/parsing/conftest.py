"""Fixtures of the face-parsing tests: the BiSeNet parser loaded once per session, skipped without torch or weights."""

import pytest

from testhelp import require_weights


@pytest.fixture(scope="session")
def face_parser():
    pytest.importorskip("torch")
    require_weights("bisenet")
    from headcast.parsing import BiSeNetFaceParser

    parser = BiSeNetFaceParser()
    parser.load()
    return parser
