"""Import a bundle's strand files with Blender's stock importers and report what Blender made of them.

Run inside Blender, or with a Python that has the ``bpy`` module (PyPI ``bpy``, which is built with USD)::

    blender -b --factory-startup --python tools/blender/strands_report.py -- REPORT.json \\
        [--obj hair_guides.obj] [--usd hair.usdc] [--head head.obj] [--render PREFIX] [--size 480]
    python tools/blender/strands_report.py REPORT.json --usd hair.usdc

Writes ``REPORT.json``:

* ``blender``: the version; ``usd_support``: whether this Blender can import USD (Debian's 3.4 build cannot).
* ``obj``: ``wm.obj_import`` of the polylines gives a mesh (``vertices``, ``edges``); *Convert ▸ Curve* turns its
  edge chains into poly splines (``curve``), *Convert ▸ Curves* those into a hair-curves object (``curves``).
* ``usd``: what ``wm.usd_import`` made (``type``; for a hair-curves object its ``curves``), or ``error``.
* Each curve set: ``count``, ``points`` per curve, and each curve's ``roots`` and ``tips`` (first and last point) in
  Blender's world frame (metres, +Z up, the face looking down −Y: the importers turn the files' +y up, +z forward
  into that with the object's rotation).
* ``renders``: with ``--render PREFIX``, ``PREFIX_front.png`` and ``PREFIX_side.png``: the hair curves (the USD ones
  when imported, else the OBJ's), and ``--head``'s mesh when given, drawn by Cycles on the CPU with an orthographic
  camera framing them; strands get a 0.5 mm display width and a flat colour (``--color``) or, from USD, their
  ``displayColor``.
"""

import argparse
import json
import math
import sys
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector


def _world(obj: bpy.types.Object, local: np.ndarray) -> np.ndarray:
    """``(n, 3)`` points of ``obj`` in the world frame."""
    m = np.array(obj.matrix_world, dtype=np.float64)
    return local @ m[:3, :3].T + m[:3, 3]


def _curve_set(obj: bpy.types.Object, counts: list[int], local: np.ndarray) -> dict:
    """Count, points per curve, roots and tips (world frame, 6 decimals) of curves stored end to end."""
    ends = np.cumsum(counts)
    points = _world(obj, local)
    starts = ends - np.asarray(counts)
    return {
        "count": len(counts),
        "points": [int(c) for c in counts],
        "roots": np.round(points[starts], 6).tolist() if counts else [],
        "tips": np.round(points[ends - 1], 6).tolist() if counts else [],
    }


def _legacy_curve(obj: bpy.types.Object) -> dict:
    """A ``CURVE`` object's poly splines."""
    counts, chunks = [], []
    for spline in obj.data.splines:
        co = np.zeros(4 * len(spline.points))
        spline.points.foreach_get("co", co)
        counts.append(len(spline.points))
        chunks.append(co.reshape(-1, 4)[:, :3])
    local = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    return {**_curve_set(obj, counts, local), "types": sorted({s.type for s in obj.data.splines})}


def _hair_curves(obj: bpy.types.Object) -> dict:
    """A hair-curves (``CURVES``) object's curves and attribute names."""
    data = obj.data
    local = np.zeros(3 * len(data.points))
    data.attributes["position"].data.foreach_get("vector", local)
    counts = [c.points_length for c in data.curves]
    return {**_curve_set(obj, counts, local.reshape(-1, 3)), "attributes": sorted(a.name for a in data.attributes)}


def _convert(obj: bpy.types.Object, target: str) -> bpy.types.Object:
    """*Object ▸ Convert* ``obj`` to ``target`` (``CURVE``, ``CURVES``); returns the converted object."""
    for other in bpy.context.view_layer.objects:
        other.select_set(False)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    bpy.ops.object.convert(target=target)
    return bpy.context.view_layer.objects.active


def _import(operator: str, path: str) -> list[bpy.types.Object]:
    """Run an import operator (``wm.obj_import``, ``wm.usd_import``); returns the objects it added."""
    before = set(bpy.data.objects)
    getattr(bpy.ops.wm, operator)(filepath=path)
    return [o for o in bpy.data.objects if o not in before]


def import_obj(path: str) -> tuple[dict, bpy.types.Object | None]:
    """Import OBJ polylines, convert them to poly splines and then to hair curves; the report and the curves."""
    objects = _import("obj_import", path)
    meshes = [o for o in objects if o.type == "MESH"]
    if len(meshes) != 1:
        return {"error": f"expected one mesh, got {[(o.name, o.type) for o in objects]}"}, None
    mesh = meshes[0]
    out: dict = {"vertices": len(mesh.data.vertices), "edges": len(mesh.data.edges), "faces": len(mesh.data.polygons)}
    curve = _convert(mesh, "CURVE")
    out["curve"] = _legacy_curve(curve)
    try:
        hair = _convert(curve, "CURVES")
    except (RuntimeError, TypeError) as err:  # a Blender without curve → hair-curves conversion
        out["curves"] = {"error": str(err)}
        return out, None
    if hair.type != "CURVES":
        out["curves"] = {"error": f"conversion gave {hair.type}"}
        return out, None
    out["curves"] = _hair_curves(hair)
    return out, hair


def import_usd(path: str) -> tuple[dict, bpy.types.Object | None]:
    """Import a USD file; the report and its hair-curves object when it made one."""
    if not hasattr(bpy.ops.wm, "usd_import") or not bpy.app.build_options.usd:
        return {"error": "this Blender was built without USD"}, None
    objects = _import("usd_import", path)
    types = sorted({o.type for o in objects})
    hair = next((o for o in objects if o.type == "CURVES"), None)
    legacy = next((o for o in objects if o.type == "CURVE"), None)
    if hair is not None:
        return {"type": "CURVES", "types": types, "curves": _hair_curves(hair)}, hair
    if legacy is not None:
        return {"type": "CURVE", "types": types, "curve": _legacy_curve(legacy)}, None
    return {"type": None, "types": types, "error": "no curves object"}, None


def _hair_material(hair: bpy.types.Object, color: tuple[float, float, float]) -> None:
    """A rough Principled BSDF coloured by the ``displayColor`` attribute (linear), else by ``color`` (sRGB).

    Not a hair BSDF: a dark strand 0.5 mm wide under a bright sky is mostly its white specular sheen there, and the
    picture should show the strands' colours as the bundle's previews do.
    """
    mat = bpy.data.materials.new("headcast_hair")
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = 0.6
    if "displayColor" in hair.data.attributes:
        attr = nodes.new("ShaderNodeAttribute")
        attr.attribute_name = "displayColor"
        links.new(attr.outputs["Color"], bsdf.inputs["Base Color"])
    else:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in color]
        bsdf.inputs["Base Color"].default_value = (*linear, 1.0)
    hair.data.materials.clear()
    hair.data.materials.append(mat)


def render(prefix: str, hair: bpy.types.Object, shown: list[bpy.types.Object], color: tuple[float, float, float],
           size: int) -> list[str]:
    """Front and side views of ``shown`` (Cycles, CPU, orthographic); returns the two PNG paths."""
    radius = hair.data.attributes.get("radius")
    if radius is None:
        radius = hair.data.attributes.new("radius", "FLOAT", "POINT")
    radius.data.foreach_set("value", np.full(len(hair.data.points), 0.00025))
    _hair_material(hair, color)
    for obj in bpy.data.objects:
        obj.hide_render = obj not in shown
    corners = np.concatenate([_world(o, np.array([v[:] for v in o.bound_box])) for o in shown])
    low, high = corners.min(axis=0), corners.max(axis=0)
    centre = Vector(((low + high) / 2).tolist())
    extent = float((high - low).max()) * 1.1

    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False  # Debian's build has no OpenImageDenoise
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    world = bpy.data.worlds.new("world")
    scene.world = world
    world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    background.inputs[0].default_value = (0.8, 0.8, 0.8, 1.0)
    background.inputs[1].default_value = 1.0
    sun = bpy.data.objects.new("key", bpy.data.lights.new("key", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(50), 0.0, math.radians(-30))
    scene.collection.objects.link(sun)
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = extent
    camera.data.clip_end = 100.0
    scene.collection.objects.link(camera)
    scene.camera = camera
    paths = []
    for name, direction in (("front", Vector((0.0, -1.0, 0.0))), ("side", Vector((1.0, 0.0, 0.0)))):
        camera.location = centre + direction * 2.0
        camera.rotation_euler = (-direction).to_track_quat("-Z", "Y").to_euler()
        scene.render.filepath = str(Path(f"{prefix}_{name}.png").resolve())
        bpy.ops.render.render(write_still=True)
        paths.append(scene.render.filepath)
    return paths


def main() -> None:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="JSON report to write")
    parser.add_argument("--obj", help="OBJ polylines (hair_guides.obj)")
    parser.add_argument("--usd", help="USD curves (hair.usdc)")
    parser.add_argument("--head", help="head mesh to draw with the hair (head.obj)")
    parser.add_argument("--render", help="write PREFIX_front.png and PREFIX_side.png")
    parser.add_argument("--size", type=int, default=480, help="render width and height, pixels")
    parser.add_argument("--color", default="0.3,0.22,0.15", help="sRGB hair colour r,g,b in [0, 1] without USD")
    args = parser.parse_args(argv)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    report: dict = {"blender": bpy.app.version_string, "usd_support": bool(bpy.app.build_options.usd)}
    obj_hair = usd_hair = None
    if args.obj:
        report["obj"], obj_hair = import_obj(args.obj)
    if args.usd:
        report["usd"], usd_hair = import_usd(args.usd)
    hair = usd_hair or obj_hair
    if args.render and hair is not None:
        shown = [hair]
        if args.head:
            shown += [o for o in _import("obj_import", args.head) if o.type == "MESH"]
        color = tuple(float(c) for c in args.color.split(","))
        report["renders"] = render(args.render, hair, shown, color, args.size)
        report["rendered"] = "usd" if hair is usd_hair else "obj"
    Path(args.report).write_text(json.dumps(report), encoding="utf-8")


main()
