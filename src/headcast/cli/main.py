"""``headcast`` command line: ``headcast make PHOTO_OR_DIR``, ``headcast eval PHOTOS_DIR`` and ``headcast version``.

The parser is built inside :func:`build_parser` (nothing runs at import). ``make`` loads the pipeline once
(``headcast.pipeline``, imported lazily so ``headcast version`` and ``--help`` stay fast), then makes one
avatar per photo. A folder is a batch: one output subfolder per photo, a progress bar on stderr, failures
reported and skipped, a summary at the end, exit status non-zero when any photo failed. ``--json`` prints a
machine-readable summary on stdout (everything else then goes to stderr).

Exit status: 0 success; for a single photo, the :class:`headcast.errors.HeadcastError`'s ``exit_code``
(3 unreadable image, 4 no face, 5 missing model file, 6 several faces with ``--faces error``); 1 for a batch
with failures or an unexpected error; 2 for bad arguments; 130 when interrupted.
"""

import argparse
import dataclasses
import json
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import headcast
from headcast.assets import AssetSettings
from headcast.cli.assets_cmd import add_assets_command
from headcast.errors import HeadcastError, InputImageError

if TYPE_CHECKING:
    from headcast.export.settings import GlbQuality
    from headcast.options import Options
    from headcast.pipeline import HeadModelName, Pipeline
    from headcast.service.config import ServiceSettings

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
EXIT_BATCH_FAILED = 1
EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130
DEBUG_HINT = "rerun with --debug for the full traceback"


@dataclass(frozen=True)
class PhotoResult:
    """Outcome of one photo.

    Attributes:
        photo: the input file.
        out_dir: where its bundle was (or would have been) written.
        seconds: wall time for this photo.
        exit_code: 0 on success, else the error's exit code.
        error: the error message on failure.
        warnings: the avatar's remarks for the user.
        files: ``BundleManifest.to_json()`` of the written bundle on success.
    """

    photo: Path
    out_dir: Path
    seconds: float
    exit_code: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    files: dict[str, object] | None = None

    @property
    def ok(self) -> bool:
        """Whether the avatar was made and written."""
        return self.exit_code == 0

    def to_json(self) -> dict[str, object]:
        """JSON-ready record."""
        return {
            "photo": str(self.photo),
            "out_dir": str(self.out_dir),
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
            "error": self.error,
            "warnings": list(self.warnings),
            "bundle": self.files,
        }


def build_parser() -> argparse.ArgumentParser:
    """The ``headcast`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="headcast", description="One portrait photo in, a textured, animatable 3D head out."
    )
    parser.add_argument("--version", action="version", version=f"headcast {headcast.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make = sub.add_parser(
        "make",
        help="make an avatar from a photo, or one per photo in a folder",
        description="Make avatar.glb, head.obj/.mtl, texture.png, params.json, previews and avatar.zip.",
    )
    make.add_argument(
        "input", type=Path, metavar="PHOTO_OR_DIR", help="a portrait photo, or a folder of them"
    )
    make.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("out"),
        metavar="OUT",
        help="output folder (default: out); a batch writes one subfolder per photo",
    )
    make.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    make.add_argument(
        "--assets",
        type=Path,
        default=None,
        metavar="DIR",
        help="model-file folder (else HEADCAST_ASSETS, ...)",
    )
    make.add_argument(
        "--faces",
        choices=("largest", "error"),
        default="largest",
        help="several faces in a photo: use the largest (default) or fail",
    )
    make.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    feeling = make.add_mutually_exclusive_group()
    feeling.add_argument(
        "--emotion",
        default=None,
        metavar="SPEC",
        help="set the avatar's emotion, e.g. happiness=0.8,surprise=0.3 (names: happiness, sadness, anger, fear, "
        "surprise, disgust, contempt; omitted = 0); default: keep the photo's own expression",
    )
    feeling.add_argument("--neutral", action="store_true", help="reset the expression to neutral in the exports")
    make.add_argument(
        "--hair",
        default="auto",
        metavar="auto|none|STYLE",
        help="strand hair: reconstruct from the photo (auto, default), none, or a library style "
        "(see `headcast hairstyles`)",
    )
    make.add_argument(
        "--hair-color", default=None, metavar="#RRGGBB", help="hair colour (default: the photo's hair colour)"
    )
    make.add_argument(
        "--head-model", choices=("ict", "flame"), default="ict",
        help="the head model: ICT FaceKit (default) or FLAME from your own FLAME file (--flame-model, else "
        "<assets>/flame/generic_model.pkl); either way flame_params.json is written when FLAME is used",
    )
    make.add_argument(
        "--flame-model", type=Path, default=None, metavar="PATH",
        help="your FLAME file (generic_model.pkl / flame2023.pkl from flame.is.tue.mpg.de); with the ICT head it "
        "adds flame_params.json: FLAME parameters fitted to the head",
    )
    make.add_argument(
        "--quality", choices=("full", "web"), default="full",
        help="avatar.glb: full (default; uncompressed, PNG texture, opens in Blender and every glTF importer) or "
        "web (a few MB: meshopt-compressed, quantised, 1024 px JPEG texture; for three.js, Babylon.js, Unity's "
        "glTFast, ...; needs Node.js)",
    )
    make.set_defaults(handler=_cmd_make)

    styles = sub.add_parser(
        "hairstyles",
        help="list the hairstyle library (one style per line: name, origin, tags)",
        description="List the hairstyles usable with `headcast make --hair NAME`.",
    )
    styles.add_argument(
        "--thumbnails", type=Path, default=None, metavar="DIR", help="also render one PNG thumbnail per style into DIR"
    )
    styles.add_argument("--assets", type=Path, default=None, metavar="DIR", help="model-file folder")
    styles.set_defaults(handler=_cmd_hairstyles)

    train_emotion = sub.add_parser(
        "train-emotion",
        help="retrain the emotion-slider networks (seeded; reproduces the packaged weights on a CPU)",
        description="Train the emotion MLPs from the written-down prototypes (headcast.emotion, docs/emotion.md).",
    )
    train_emotion.add_argument(
        "-o", "--output", type=Path, default=None, metavar="DIR",
        help="where the JSON weight files go (default: the package's headcast/emotion/data)",
    )
    train_emotion.add_argument("--steps", type=int, default=None, metavar="N", help="optimiser steps (default 4000)")
    train_emotion.add_argument(
        "--check", action="store_true", help="train and compare with the packaged files instead of writing"
    )
    train_emotion.add_argument(
        "--assets", type=Path, default=None, metavar="DIR", help="model-file folder (else HEADCAST_ASSETS, ...)"
    )
    train_emotion.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    train_emotion.set_defaults(handler=_cmd_train_emotion)

    evaluate = sub.add_parser(
        "eval",
        help="measure avatars against their photos (../shared/docs/EVALUATION.md)",
        description="Run the pipeline on every photo of a folder and write report.json, report.md and plots "
        "(views.png: photo | front | 45° | 90° of every photo).",
    )
    evaluate.add_argument("photos", type=Path, metavar="PHOTOS_DIR", help="a folder of portrait photos")
    evaluate.add_argument("--out", type=Path, required=True, metavar="REPORT_DIR", help="where the report goes")
    evaluate.add_argument(
        "--fast", action="store_true", help="3 photos and 2 synthetic heads (CI); every metric is still computed"
    )
    evaluate.add_argument("--limit", type=int, default=None, metavar="N", help="evaluate at most N photos")
    evaluate.add_argument(
        "--reuse",
        type=Path,
        default=None,
        metavar="BUNDLES_DIR",
        help="evaluate the bundles in BUNDLES_DIR/<photo stem>/ (from headcast make: params.json, texture.png and "
        "the hair files) instead of re-running the pipeline",
    )
    evaluate.add_argument(
        "--synthetic", type=int, default=None, metavar="N", help="synthetic ground-truth heads (default 10; fast 2)"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the synthetic heads (default 0)")
    evaluate.add_argument(
        "--delight", choices=("on", "off"), default=None,
        help="bake de-lit albedo textures (relit by the renders) or keep the photo's shading (default: the "
        "pipeline's TextureSettings.delight)",
    )
    evaluate.add_argument(
        "--refine", choices=("on", "off"), default=None,
        help="refine the fitted identity to the parsed skull and ear outlines, or keep the landmark fit (default: "
        "the pipeline's RefineSettings.enabled)",
    )
    evaluate.add_argument(
        "--landmark-noise", choices=("packaged", "off"), default=None,
        help="take the identity from the packaged model of the detector's landmark error, or fit every landmark "
        "independently (default: the pipeline's FitSettings.landmark_noise, off)",
    )
    evaluate.add_argument(
        "--outline", choices=("on", "off"), default=None,
        help="warp the fitted cranium and ears to the photo's bare-skin and ear outline, or keep the fitted mesh "
        "(default: the pipeline's OutlineSettings.enabled)",
    )
    evaluate.add_argument(
        "--nose", choices=("on", "off"), default=None,
        help="texture the nose from the photo wherever the photo trusts it (flanks at a grazing angle, the "
        "nostrils' hidden inside), or by the view-angle rule with a skin fill (default: the pipeline's "
        "TextureSettings.nose_from_photo)",
    )
    evaluate.add_argument(
        "--register", choices=("on", "off"), default=None,
        help="shift the photo's features onto the fitted mesh's before baking (the detector's landmarks), or bake "
        "at the fitted mesh's projection (default: the pipeline's TextureSettings.register_features)",
    )
    evaluate.add_argument(
        "--fit", default="", metavar="KEY=VALUE,...", type=_overrides_of("fit"),
        help="ablation: override FitSettings fields, e.g. landmark_noise=packaged,noise_role=all (applied after the "
        "flags above)",
    )
    evaluate.add_argument(
        "--texture", default="", metavar="KEY=VALUE,...", type=_overrides_of("texture"),
        help="ablation: override TextureSettings fields, e.g. nose_turn_deg=10+20 (tuples joined by +)",
    )
    evaluate.add_argument(
        "--assets", type=Path, default=None, metavar="DIR", help="model-file folder (else HEADCAST_ASSETS, ...)"
    )
    evaluate.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    evaluate.set_defaults(handler=_cmd_eval)

    version = sub.add_parser("version", help="print versions of headcast and its main dependencies")
    version.set_defaults(handler=_cmd_version)
    _add_service_commands(sub)
    add_assets_command(sub)
    doctor = sub.add_parser(
        "doctor",
        help="check this installation: versions, model files, weights, renderer, extras; says how to fix each",
        description="Report what headcast needs and finds. Exit status 1 when `headcast make` cannot run.",
    )
    doctor.add_argument("--assets", type=Path, default=None, metavar="DIR", help="model-file folder to check")
    doctor.add_argument("--json", action="store_true", help="the checks as JSON on stdout")
    doctor.set_defaults(handler=_cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script passes it to ``sys.exit``)."""
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.handler(args))
    except HeadcastError as err:
        print(f"headcast: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("headcast: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:
        if debug:
            traceback.print_exc()
        print(f"headcast: unexpected error: {type(err).__name__}: {err}", file=sys.stderr)
        if not debug:
            print(f"headcast: {DEBUG_HINT}", file=sys.stderr)
        return EXIT_UNEXPECTED


def _add_service_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """``headcast serve`` (gateway + worker processes) and ``headcast worker`` (one more worker process)."""
    serve = sub.add_parser(
        "serve",
        help="run the web app: HTTP gateway + worker processes (SQLite job table and files on disk, or Redis)",
        description="Serve the upload page at / and the API at /api/avatars (docs at /docs). Without --broker: "
        "embedded, no other service. With --broker redis://HOST:PORT/DB: jobs go through Redis (Dramatiq) and "
        "`headcast worker --broker ...` processes on any machine sharing --data take them.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes started beside the gateway (default 1; 0: gateway only)")
    _add_backend_arguments(serve)
    serve.set_defaults(handler=_cmd_serve)
    worker = sub.add_parser(
        "worker",
        help="run one worker process for a gateway (`headcast serve --workers 0`, or more capacity)",
        description="Take jobs and make avatars. Without --broker: poll the SQLite job table under --data. With "
        "--broker redis://HOST:PORT/DB: a Dramatiq worker; --data must be the gateway's folder (a shared volume).",
    )
    _add_backend_arguments(worker)
    worker.set_defaults(handler=_cmd_worker)


def _add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Options ``serve`` and ``worker`` share: data folder, models, broker and back-end queue."""
    parser.add_argument("--data", type=Path, default=Path("headcast-data"), metavar="DIR",
                        help="job files (and the embedded job table); default ./headcast-data")
    parser.add_argument("--assets", type=Path, default=None, metavar="DIR", help="model-file folder")
    parser.add_argument("--broker", default=None, metavar="redis://HOST:PORT/DB",
                        help="keep jobs in Redis and send them through Dramatiq (needs headcast[service-redis]; "
                        "default: HEADCAST_SERVICE_BROKER, else the embedded SQLite table)")
    parser.add_argument("--queue", default=None, metavar="NAME",
                        help="back-end queue: the gateway sends jobs there, workers take them from there "
                        "(default ict)")


def _service_settings(args: argparse.Namespace, workers: int) -> "ServiceSettings":
    """``ServiceSettings`` from the command line (other fields from ``HEADCAST_SERVICE_*`` variables)."""
    from headcast.service.config import ServiceSettings

    given = {"broker": args.broker, "queue": args.queue}
    return ServiceSettings(data_dir=args.data, workers=workers, assets_dir=args.assets,
                           **{k: v for k, v in given.items() if v is not None})


def _cmd_serve(args: argparse.Namespace) -> int:
    from headcast.service.entry import serve

    serve(_service_settings(args, args.workers), args.host, args.port)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from headcast.service.entry import WORKER_LOG_FORMAT, run_worker

    logging.basicConfig(level=logging.INFO, format=WORKER_LOG_FORMAT)
    run_worker(_service_settings(args, 0))  # embedded (SQLite table) or Dramatiq, by --broker
    return 0


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"headcast {headcast.__version__} (Python {platform.python_version()}, {platform.system()})")
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from headcast.cli.doctor import doctor

    return doctor(args.assets, args.json)


def find_photos(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (by suffix, case-insensitive), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)


def batch_out_dirs(photos: Sequence[Path], out: Path) -> list[Path]:
    """One subfolder of ``out`` per photo, named by its stem (``stem_ext`` when two photos share a stem)."""
    stems = [p.stem for p in photos]
    return [
        out / (p.stem if stems.count(p.stem) == 1 else f"{p.stem}_{p.suffix.lstrip('.')}") for p in photos
    ]


def _options(args: argparse.Namespace) -> "Options":
    """The user's choices from ``make``'s flags (checked before any model loads: a typo fails fast, exit 2).

    Raises:
        OptionError: a malformed colour or emotion, or a hairstyle the library does not have.
    """
    from headcast.options import Options
    from headcast.pipeline import check_options

    emotion = "neutral" if getattr(args, "neutral", False) else getattr(args, "emotion", None)
    options = Options(hair=args.hair, hair_color=args.hair_color, emotion=emotion, faces=args.faces)
    check_options(options)
    return options


def _overrides_of(stage: str) -> Callable[[str], str]:
    """An argparse ``type`` that checks ``KEY=VALUE,...`` against the stage's settings (``fit`` or ``texture``)."""

    def check(text: str) -> str:
        from headcast.cli.overrides import parse_overrides
        from headcast.fitting.settings import FitSettings
        from headcast.texture.settings import TextureSettings

        try:
            parse_overrides(text, FitSettings if stage == "fit" else TextureSettings)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return text

    return check


def _load_pipeline(
    assets: Path | None, head_model: "HeadModelName" = "ict", flame_model: Path | None = None,
    delight: bool | None = None,
    refine: bool | None = None,
    landmark_noise: bool | None = None,
    register: bool | None = None,
    outline: bool | None = None,
    nose: bool | None = None,
    fit_overrides: str = "",
    texture_overrides: str = "",
    quality: "GlbQuality" = "full",
) -> "Pipeline":
    from dataclasses import replace

    from headcast.cli.overrides import apply_overrides
    from headcast.pipeline import HeadModelSettings, Pipeline, PipelineSettings

    head = HeadModelSettings(name=head_model, flame_model=flame_model)
    settings = PipelineSettings(assets=AssetSettings(assets_dir=assets), head=head)
    settings = replace(settings, export=replace(settings.export, quality=quality))
    if delight is not None:
        settings = replace(settings, texture=replace(settings.texture, delight=delight))
    if register is not None:
        settings = replace(settings, texture=replace(settings.texture, register_features=register))
    if outline is not None:
        settings = replace(settings, outline=replace(settings.outline, enabled=outline))
    if nose is not None:
        settings = replace(settings, texture=replace(settings.texture, nose_from_photo=nose))
    if refine is not None:
        settings = replace(settings, refine=replace(settings.refine, enabled=refine))
    if landmark_noise is not None:
        settings = replace(settings, fit=replace(settings.fit, landmark_noise="packaged" if landmark_noise else None))
    if fit_overrides:
        settings = replace(settings, fit=apply_overrides(settings.fit, fit_overrides))
    if texture_overrides:
        settings = replace(settings, texture=apply_overrides(settings.texture, texture_overrides))
    return Pipeline.load(settings)


def _cmd_hairstyles(args: argparse.Namespace) -> int:
    from headcast.hair.library import library_styles

    styles = library_styles()
    for s in styles:
        print(f"{s.name}\t{s.origin}\t{','.join(s.tags)}")
    if args.thumbnails is not None:
        from headcast.hair.thumbnails import write_thumbnails

        paths = write_thumbnails(styles, args.thumbnails, AssetSettings(assets_dir=args.assets))
        print(f"wrote {len(paths)} thumbnails to {args.thumbnails}", file=sys.stderr)
    return 0


def _make_one(pipeline: "Pipeline", options: "Options", photo: Path, out_dir: Path, debug: bool) -> PhotoResult:
    start = time.perf_counter()
    try:
        avatar = pipeline.make(photo, options)
        manifest = pipeline.write(avatar, out_dir)
    except HeadcastError as err:
        return PhotoResult(photo, out_dir, time.perf_counter() - start, err.exit_code, str(err))
    except Exception as err:
        if debug:
            traceback.print_exc()
        message = f"unexpected error: {type(err).__name__}: {err}" + ("" if debug else f" ({DEBUG_HINT})")
        return PhotoResult(photo, out_dir, time.perf_counter() - start, EXIT_UNEXPECTED, message)
    return PhotoResult(
        photo,
        out_dir,
        time.perf_counter() - start,
        warnings=tuple(avatar.warnings),
        files=manifest.to_json(),
    )


def _report(results: Sequence[PhotoResult], batch: bool, as_json: bool, stream: TextIO) -> None:
    """Print the JSON summary (stdout) and the human-readable one (``stream``)."""
    ok = sum(r.ok for r in results)
    if as_json:
        summary = {
            "version": headcast.__version__,
            "ok": ok == len(results),
            "succeeded": ok,
            "failed": len(results) - ok,
            "results": [r.to_json() for r in results],
        }
        print(json.dumps(summary, indent=2), file=sys.stdout)
    for r in results:
        for w in r.warnings:
            print(f"headcast: warning: {r.photo.name}: {w}", file=stream)
        if r.ok:
            print(f"{r.photo.name}: wrote {r.out_dir} ({r.seconds:.1f} s)", file=stream)
        else:
            print(f"{r.photo.name}: failed: {r.error}", file=stream if batch else sys.stderr)
    if batch:
        print(f"{ok} of {len(results)} photos succeeded, {len(results) - ok} failed", file=stream)


def _cmd_train_emotion(args: argparse.Namespace) -> int:
    from headcast.emotion.training_run import train_packaged_models

    return train_packaged_models(AssetSettings(assets_dir=args.assets), args.output, args.steps, args.check)


def _cmd_make(args: argparse.Namespace) -> int:
    source: Path = args.input
    options = _options(args)  # before any work: a bad --emotion, colour or style fails fast (exit 2)
    if source.is_dir():
        photos = find_photos(source)
        if not photos:
            raise InputImageError(f"no photos ({', '.join(PHOTO_SUFFIXES)}) in folder {source}")
        out_dirs, batch = batch_out_dirs(photos, args.output), True
    elif source.is_file():
        photos, out_dirs, batch = [source], [args.output], False
    else:
        raise InputImageError(f"{source} does not exist: give a photo or a folder of photos")

    from tqdm import tqdm  # imported here: keeps `headcast version` and --help light

    if args.quality == "web":  # Node.js and the compressor: checked before any work (exit 7)
        from headcast.export.compress import web_compressor

        web_compressor()
    # a missing or foreign FLAME file fails here, before any photo (exit 5)
    pipeline = _load_pipeline(args.assets, args.head_model, args.flame_model, quality=args.quality)
    results: list[PhotoResult] = []
    progress = tqdm(total=len(photos), disable=not batch, file=sys.stderr, unit="photo", dynamic_ncols=True)
    try:
        with progress:
            for photo, out_dir in zip(photos, out_dirs, strict=True):
                progress.set_postfix_str(photo.name)
                result = _make_one(pipeline, options, photo, out_dir, args.debug)
                if batch and not result.ok:
                    progress.write(f"{photo.name}: failed: {result.error}", file=sys.stderr)
                results.append(result)
                progress.update()
    finally:
        pipeline.close()

    _report(results, batch, args.json, sys.stderr if args.json else sys.stdout)
    if not batch:
        return results[0].exit_code
    return 0 if all(r.ok for r in results) else EXIT_BATCH_FAILED


def _cmd_eval(args: argparse.Namespace) -> int:
    """``headcast eval``: pipeline + metrics over a folder, report written to ``--out``."""
    import shlex

    from headcast.eval.report import ReportContext, write_report
    from headcast.eval.runner import FAST_SYNTHETIC, EvalSettings, choose_photos, run_evaluation
    from headcast.eval.synthetic import SyntheticSettings
    from headcast.options import Options

    source: Path = args.photos
    if not source.is_dir():
        raise InputImageError(f"{source} is not a folder of photos")
    photos = choose_photos(find_photos(source), args.fast, args.limit)
    if not photos:
        raise InputImageError(f"no photos ({', '.join(PHOTO_SUFFIXES)}) in folder {source}")
    if args.reuse is not None and not args.reuse.is_dir():
        raise InputImageError(f"--reuse {args.reuse} is not a folder of bundles")
    count = args.synthetic if args.synthetic is not None else (FAST_SYNTHETIC if args.fast else 10)
    settings = EvalSettings(synthetic=SyntheticSettings(count=max(0, count), seed=args.seed))
    options = Options()  # EVALUATION.md: the default avatar (hair from the photo, the photo's own expression)
    pipeline = _load_pipeline(
        args.assets,
        delight=None if args.delight is None else args.delight == "on",
        refine=None if args.refine is None else args.refine == "on",
        landmark_noise=None if args.landmark_noise is None else args.landmark_noise == "packaged",
        register=None if args.register is None else args.register == "on",
        outline=None if args.outline is None else args.outline == "on",
        nose=None if args.nose is None else args.nose == "on",
        fit_overrides=args.fit,
        texture_overrides=args.texture,
    )
    try:
        run = run_evaluation(
            pipeline, photos, settings, options, reuse_dir=args.reuse,
            progress=lambda m: print(m, file=sys.stderr, flush=True),
        )
    finally:
        pipeline.close()
    ctx = ReportContext(
        command=shlex.join(["headcast", *sys.argv[1:]]) if sys.argv[1:2] == ["eval"] else _eval_command(args),
        photos_dir=source,
        settings=settings,
        pipeline_settings=dataclasses.asdict(pipeline.settings),
        options=options.to_json(),
    )
    path = write_report(run, ctx, args.out)
    ok = sum(r.ok for r in run.images)
    print(f"evaluated {ok} of {len(run.images)} photos in {run.total_seconds:.0f} s; report: {path}")
    return 0 if ok else EXIT_BATCH_FAILED


def _eval_command(args: argparse.Namespace) -> str:
    """The equivalent command line of an in-process ``main([...])`` call."""
    import shlex

    parts = ["headcast", "eval", str(args.photos), "--out", str(args.out)]
    parts += ["--fast"] if args.fast else []
    parts += ["--limit", str(args.limit)] if args.limit is not None else []
    parts += ["--reuse", str(args.reuse)] if args.reuse is not None else []
    parts += ["--synthetic", str(args.synthetic)] if args.synthetic is not None else []
    parts += ["--seed", str(args.seed)] if args.seed else []
    parts += ["--delight", args.delight] if args.delight is not None else []
    parts += ["--refine", args.refine] if args.refine is not None else []
    parts += ["--landmark-noise", args.landmark_noise] if args.landmark_noise is not None else []
    parts += ["--register", args.register] if args.register is not None else []
    parts += ["--outline", args.outline] if args.outline is not None else []
    parts += ["--nose", args.nose] if args.nose is not None else []
    parts += ["--fit", args.fit] if args.fit else []
    parts += ["--texture", args.texture] if args.texture else []
    parts += ["--assets", str(args.assets)] if args.assets is not None else []
    return shlex.join(parts)
