"""Import a GLB with Blender's stock glTF importer and report what Blender made of it (run inside Blender).

    blender -b --factory-startup --python tools/blender/gltf_report.py -- AVATAR.glb [RENDER.png]

Prints one line ``HEADCAST_REPORT {json}``: every object's name and type; for meshes the vertex count, shape-key
names and material names; for armatures the bone names. With ``RENDER.png`` it also renders the head with Cycles on
the CPU (320², 16 samples; smiling, jaw a little open through the shape keys) from the front.

Debian 12's Blender 3.4 ships a glTF add-on that still uses ``numpy.bool``, which NumPy 1.24 removed; the alias is
put back before the import (it is the builtin ``bool``).
"""

import json
import math
import sys

import bpy
import numpy
from mathutils import Vector

if not hasattr(numpy, "bool"):
    numpy.bool = bool


def report() -> dict:
    """What the scene holds after the import."""
    objects = []
    for obj in bpy.data.objects:
        row = {"name": obj.name, "type": obj.type}
        if obj.type == "MESH":
            keys = obj.data.shape_keys
            row["vertices"] = len(obj.data.vertices)
            row["edges"] = len(obj.data.edges)
            row["faces"] = len(obj.data.polygons)
            row["shape_keys"] = [k.name for k in keys.key_blocks] if keys else []
            row["materials"] = [m.name for m in obj.data.materials if m]
        if obj.type == "ARMATURE":
            row["bones"] = [b.name for b in obj.data.bones]
        if obj.type == "CURVES":
            row["curves"] = len(obj.data.curves)
        objects.append(row)
    return {"objects": objects}


def render(path: str) -> None:
    """A front view of the head with a smile (Cycles, CPU)."""
    head = bpy.data.objects.get("head")
    if head is not None and head.data.shape_keys:
        blocks = head.data.shape_keys.key_blocks
        for name, value in (("jawOpen", 0.4), ("mouthSmileLeft", 0.7), ("mouthSmileRight", 0.7)):
            if name in blocks:
                blocks[name].value = value
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False  # Debian's build has no OpenImageDenoise
    scene.render.resolution_x = scene.render.resolution_y = 320
    world = bpy.data.worlds.new("world")
    scene.world = world
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs[1].default_value = 1.0
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.data.lens = 85
    scene.collection.objects.link(camera)
    scene.camera = camera
    camera.location = Vector((0.0, -1.2, 0.0))  # glTF +Z (the face's front) is Blender's -Y
    camera.rotation_euler = (-camera.location).to_track_quat("-Z", "Y").to_euler()
    sun = bpy.data.objects.new("key", bpy.data.lights.new("key", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(60), 0.0, math.radians(30))
    scene.collection.objects.link(sun)
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)


def main() -> None:
    args = sys.argv[sys.argv.index("--") + 1 :]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=args[0])
    print("HEADCAST_REPORT " + json.dumps(report()), flush=True)
    if len(args) > 1:
        render(args[1])


main()
