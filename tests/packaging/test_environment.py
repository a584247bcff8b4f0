"""The environment the tests run in is the locked one: one cv2, pip's dependency check clean, versions as locked."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from headcast.cli.doctor import OPENCV_DISTRIBUTIONS, canonical, installed_version, read_lock

ROOT = Path(__file__).resolve().parents[2]


def test_exactly_one_opencv_distribution():
    present = [d for d in OPENCV_DISTRIBUTIONS if installed_version(d) is not None]
    assert present == ["opencv-contrib-python"], present


def test_pip_check_is_clean():
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_packages_match_the_lock():
    lock = ROOT / "requirements" / "dev.txt"
    if not lock.is_file():
        pytest.skip("not a checkout")
    pins = read_lock(lock)
    installed = {canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    differ = {n: (installed[n], v) for n, v in pins.items() if n in installed and installed[n] != v}
    missing = sorted(set(pins) - set(installed))
    assert not differ, f"installed ≠ lock: {differ}"
    assert not missing, f"locked but not installed (run scripts/install-dev.sh): {missing}"


def test_runtime_lock_is_inside_the_dev_lock():
    runtime, dev = read_lock(ROOT / "requirements" / "runtime.txt"), read_lock(ROOT / "requirements" / "dev.txt")
    assert runtime, "empty runtime lock"
    assert {n: v for n, v in runtime.items() if dev.get(n) != v} == {}


def test_every_lock_line_has_a_hash():
    for name in ("runtime.txt", "dev.txt", "build.txt"):
        text = (ROOT / "requirements" / name).read_text()
        blocks = [b for b in text.split("\n") if "==" in b and not b.lstrip().startswith("#")]
        assert blocks, name
        for line in blocks:
            assert line.rstrip().endswith("\\"), f"{name}: {line} has no --hash lines"


def test_read_lock_parses_pins(tmp_path):
    lock = tmp_path / "x.txt"
    lock.write_text("# c\nFoo_Bar==1.2 \\\n    --hash=sha256:ab\ntorch==2.13.0+cpu \\\n    --hash=sha256:cd\n")
    assert read_lock(lock) == {"foo-bar": "1.2", "torch": "2.13.0+cpu"}
