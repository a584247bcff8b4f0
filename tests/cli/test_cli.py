"""The ``headcast`` command line against a fake ``headcast.pipeline`` (no models, no fitting).

The fake follows the composition's contract: ``PipelineSettings(assets, head)``, ``HeadModelSettings(name,
flame_model)``, ``Pipeline.load(settings)``,
``pipeline.make(photo, options) -> Avatar``, ``pipeline.write(avatar, out_dir) -> BundleManifest``,
``pipeline.close()`` and ``check_options(options)``. Photos whose name contains ``noface`` raise ``NoFaceError``;
``boom`` raises an unexpected ``RuntimeError``; the hairstyle ``nosuchstyle`` is unknown.
"""

import json
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import headcast
from headcast.assets import AssetSettings
from headcast.cli.main import batch_out_dirs, build_parser, find_photos, main
from headcast.errors import AssetError, NoFaceError, OptionalComponentError
from headcast.export.bundle import BundleFile, BundleManifest
from headcast.export.settings import ExportSettings
from headcast.options import OptionError, Options


@dataclass(frozen=True)
class FakeHeadModelSettings:
    name: str = "ict"
    flame_model: Path | None = None


@dataclass(frozen=True)
class FakePipelineSettings:
    assets: AssetSettings = field(default_factory=AssetSettings)
    head: FakeHeadModelSettings = field(default_factory=FakeHeadModelSettings)
    export: ExportSettings = field(default_factory=ExportSettings)


@dataclass(frozen=True)
class FakeAvatar:
    photo: Path
    warnings: tuple[str, ...] = ()


@dataclass
class FakePipeline:
    settings: FakePipelineSettings
    made: list[tuple[Path, Options]] = field(default_factory=list)
    closed: bool = False

    def make(self, photo: Path, options: Options) -> FakeAvatar:
        self.made.append((Path(photo), options))
        if "noface" in photo.name:
            raise NoFaceError(f"No face was found in {photo.name}.")
        if "boom" in photo.name:
            raise RuntimeError("kaboom")
        return FakeAvatar(photo, warnings=("image downscaled",) if "big" in photo.name else ())

    def write(self, avatar: FakeAvatar, out_dir: Path) -> BundleManifest:
        out_dir.mkdir(parents=True, exist_ok=True)
        glb = out_dir / "avatar.glb"
        glb.write_bytes(b"glTF")
        archive = out_dir / "avatar.zip"
        archive.write_bytes(b"PK")
        return BundleManifest(out_dir, (BundleFile.at(glb),), BundleFile.at(archive))

    def close(self) -> None:
        self.closed = True


class FakePipelineModule(types.ModuleType):
    """Stands in for ``headcast.pipeline``; records how it was called."""

    PipelineSettings = FakePipelineSettings
    HeadModelSettings = FakeHeadModelSettings

    def __init__(self, fail_load: Exception | None = None) -> None:
        super().__init__("headcast.pipeline")
        self.loaded: list[FakePipeline] = []
        fake = self

        class Pipeline:
            @staticmethod
            def load(settings: FakePipelineSettings) -> FakePipeline:
                if fail_load is not None:
                    raise fail_load
                fake.loaded.append(FakePipeline(settings))
                return fake.loaded[-1]

        self.Pipeline = Pipeline

    @staticmethod
    def check_options(options: Options) -> None:
        if options.hair == "nosuchstyle":
            raise OptionError("unknown hairstyle 'nosuchstyle'; run `headcast hairstyles` to list them")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePipelineModule:
    module = FakePipelineModule()
    monkeypatch.setitem(sys.modules, "headcast.pipeline", module)
    return module


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("anna.jpg", "big_ben.PNG", "noface.png", "zed_boom.jpeg", "notes.txt"):
        (folder / name).write_bytes(b"x")
    return folder


def test_single_photo_writes_into_out(tmp_path: Path, photos: Path, fake: FakePipelineModule, capsys) -> None:
    code = main(["make", str(photos / "anna.jpg"), "-o", str(tmp_path / "out")])
    assert code == 0
    assert (tmp_path / "out" / "avatar.glb").is_file()
    assert "anna.jpg: wrote" in capsys.readouterr().out


def test_single_photo_headcast_error_exit_code_no_traceback(
    tmp_path: Path, photos: Path, fake: FakePipelineModule, capsys
) -> None:
    code = main(["make", str(photos / "noface.png"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == NoFaceError.exit_code == 4
    assert "No face was found in noface.png" in err and "Traceback" not in err


def test_unexpected_error_exit_1_with_debug_hint(
    tmp_path: Path, photos: Path, fake: FakePipelineModule, capsys
) -> None:
    code = main(["make", str(photos / "zed_boom.jpeg"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "RuntimeError: kaboom" in err and "--debug" in err and "Traceback" not in err
    assert main(["make", str(photos / "zed_boom.jpeg"), "-o", str(tmp_path / "out"), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_batch_continues_past_failures_and_summarises_json(
    tmp_path: Path, photos: Path, fake: FakePipelineModule, capsys
) -> None:
    out = tmp_path / "out"
    code = main(["make", str(photos), "-o", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    summary = json.loads(captured.out)  # stdout holds only the JSON
    assert (summary["succeeded"], summary["failed"], summary["ok"]) == (2, 2, False)
    by_name = {Path(r["photo"]).name: r for r in summary["results"]}
    assert list(by_name) == ["anna.jpg", "big_ben.PNG", "noface.png", "zed_boom.jpeg"]  # notes.txt skipped
    assert by_name["noface.png"]["exit_code"] == 4 and by_name["zed_boom.jpeg"]["exit_code"] == 1
    assert by_name["big_ben.PNG"]["warnings"] == ["image downscaled"]
    assert by_name["anna.jpg"]["bundle"]["archive"] == str(out / "anna" / "avatar.zip")
    assert (out / "anna" / "avatar.glb").is_file() and (out / "big_ben" / "avatar.glb").is_file()
    assert not (out / "noface").exists()
    assert len(fake.loaded) == 1 and len(fake.loaded[0].made) == 4  # one pipeline for the whole batch
    assert fake.loaded[0].closed
    assert "2 of 4 photos succeeded, 2 failed" in captured.err
    assert "photo" in captured.err  # tqdm's progress bar on stderr


def test_batch_all_ok_exits_0(tmp_path: Path, photos: Path, fake: FakePipelineModule, capsys) -> None:
    for bad in ("noface.png", "zed_boom.jpeg"):
        (photos / bad).unlink()
    assert main(["make", str(photos), "-o", str(tmp_path / "out")]) == 0
    assert "2 of 2 photos succeeded, 0 failed" in capsys.readouterr().out


def test_settings_and_options_reach_the_pipeline(tmp_path: Path, photos: Path, fake: FakePipelineModule) -> None:
    args = ["make", str(photos / "anna.jpg"), "-o", str(tmp_path), "--assets", str(tmp_path), "--faces", "error",
            "--hair", "Bob", "--hair-color", "8B5A2B", "--emotion", "surprise=0.3,happiness=0.8"]
    assert main(args) == 0
    pipeline = fake.loaded[0]
    assert pipeline.settings.assets.assets_dir == tmp_path
    (_, options), = pipeline.made
    assert options == Options(hair="bob", hair_color="#8b5a2b", emotion="happiness=0.8,surprise=0.3", faces="error")
    assert pipeline.settings.head == FakeHeadModelSettings("ict", None)
    assert pipeline.settings.export.quality == "full"  # the default: the GLB every importer reads
    assert main(["make", str(photos / "anna.jpg"), "-o", str(tmp_path), "--neutral"]) == 0
    assert fake.loaded[1].made[0][1].emotion == "neutral"
    flame_file = tmp_path / "my_flame.pkl"
    assert main(["make", str(photos / "anna.jpg"), "-o", str(tmp_path), "--head-model", "flame",
                 "--flame-model", str(flame_file)]) == 0
    assert fake.loaded[2].settings.head == FakeHeadModelSettings("flame", flame_file)


def test_quality_web_reaches_the_export_and_checks_node_first(tmp_path: Path, photos: Path,
                                                              fake: FakePipelineModule, monkeypatch, capsys) -> None:
    import headcast.export.compress as compress

    monkeypatch.setattr(compress, "web_compressor", lambda: ("node", tmp_path / "compress.mjs"))
    assert main(["make", str(photos / "anna.jpg"), "-o", str(tmp_path), "--quality", "web"]) == 0
    assert fake.loaded[0].settings.export.quality == "web"

    def no_node() -> tuple[str, Path]:
        raise OptionalComponentError("the 'web' GLB quality needs Node.js >= 18 on the PATH")

    monkeypatch.setattr(compress, "web_compressor", no_node)
    assert main(["make", str(photos / "anna.jpg"), "-o", str(tmp_path), "--quality", "web"]) == 7
    assert "Node.js" in capsys.readouterr().err
    assert len(fake.loaded) == 1  # checked before the pipeline was loaded


def test_bad_options_fail_before_loading(tmp_path: Path, photos: Path, fake: FakePipelineModule, capsys) -> None:
    for flags, message in ((["--hair", "nosuchstyle"], "unknown hairstyle 'nosuchstyle'"),
                           (["--hair-color", "#12"], "is not a colour"),
                           (["--emotion", "joy=1"], "unknown emotion 'joy'")):
        assert main(["make", str(photos / "anna.jpg"), "-o", str(tmp_path), *flags]) == 2
        assert message in capsys.readouterr().err
    assert fake.loaded == []


def test_asset_error_while_loading(
    tmp_path: Path, photos: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    module = FakePipelineModule(fail_load=AssetError("Model file 'x.npz' was not found."))
    monkeypatch.setitem(sys.modules, "headcast.pipeline", module)
    assert main(["make", str(photos), "-o", str(tmp_path)]) == AssetError.exit_code == 5
    assert "headcast: error: Model file 'x.npz' was not found." in capsys.readouterr().err


def test_missing_input_and_empty_folder(tmp_path: Path, fake: FakePipelineModule, capsys) -> None:
    assert main(["make", str(tmp_path / "nope.jpg")]) == 3
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["make", str(tmp_path / "empty")]) == 3
    assert "no photos" in capsys.readouterr().err
    assert fake.loaded == []  # nothing loaded for a bad input


def test_bad_arguments_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["make", "x.jpg", "--faces", "all"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_version(capsys) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith(f"headcast {headcast.__version__}")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])


def test_batch_out_dirs_disambiguate_same_stems(tmp_path: Path) -> None:
    names = [Path("a.jpg"), Path("a.png"), Path("b.jpg")]
    assert [d.name for d in batch_out_dirs(names, tmp_path)] == ["a_jpg", "a_png", "b"]


def test_find_photos_sorted_case_insensitive(photos: Path) -> None:
    assert [p.name for p in find_photos(photos)] == ["anna.jpg", "big_ben.PNG", "noface.png", "zed_boom.jpeg"]


def test_module_entry_point_runs() -> None:
    """``python -m headcast.cli version`` works without the pipeline (lazy import, no import-time parsing)."""
    proc = subprocess.run(
        [sys.executable, "-m", "headcast.cli", "version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("headcast ")
