"""Import a GLB with Blender's stock glTF importer and report what Blender made of it (run inside Blender).

    blender -b --factory-startup --python tools/blender/gltf_report.py -- AVATAR.glb [RENDER.png [VIEW ...]]

Prints one line ``HEADCAST_REPORT {json}``: every object's name and type; for meshes the vertex count, shape-key
names, material names and parent bone; for armatures the bone names, their rest head positions (Blender's frame:
+z up, the face towards −y) and the actions. With ``RENDER.png`` it also renders the head with Cycles on the CPU
(320², 16 samples; smiling, jaw a little open through the shape keys) at the rest pose from the front; VIEWs name
other pictures, each written as ``RENDER_<view>.png``: ``front``, ``side`` (from the head's left), ``turned`` (the
Head bone turned 30° to the head's left and 15° down, both eyes 20° to the head's right, from the front) and
``photo`` (the ``photo_pose`` action, from the front) and ``close`` (the eyes and mouth from nearer).

Debian 12's Blender 3.4 ships a glTF add-on that still uses ``numpy.bool``, which NumPy 1.24 removed; the alias is
put back before the import (it is the builtin ``bool``).
"""

import json
import math
import sys

import bpy
import numpy
from mathutils import Matrix, Vector

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
        if obj.parent_type == "BONE":
            row["parent_bone"] = obj.parent_bone
        if obj.type == "ARMATURE":
            row["bones"] = [b.name for b in obj.data.bones]
            row["bone_heads"] = {b.name: list(b.head_local) for b in obj.data.bones}
        if obj.type == "CURVES":
            row["curves"] = len(obj.data.curves)
        objects.append(row)
    return {"objects": objects, "actions": [a.name for a in bpy.data.actions]}


def _armature() -> "bpy.types.Object | None":
    return next((o for o in bpy.data.objects if o.type == "ARMATURE"), None)


def rest_pose() -> None:
    """Every bone at rest, no action (the importer makes the first animation the armature's action)."""
    arm = _armature()
    if arm is None:
        return
    if arm.animation_data is not None:
        arm.animation_data.action = None
    for bone in arm.pose.bones:
        bone.matrix_basis = Matrix.Identity(4)
    bpy.context.view_layer.update()


def turn_bone(name: str, axis: str, degrees: float) -> None:
    """Turn a pose bone about its own head by ``degrees`` about an armature-space axis (Blender's frame)."""
    arm = _armature()
    bone = arm.pose.bones[name]
    bpy.context.view_layer.update()
    pivot = bone.head.copy()
    turn = Matrix.Translation(pivot) @ Matrix.Rotation(math.radians(degrees), 4, axis) @ Matrix.Translation(-pivot)
    bone.matrix = turn @ bone.matrix
    bpy.context.view_layer.update()


def pose_view(view: str) -> Vector:
    """Pose the armature for ``view``; returns the camera's position."""
    rest_pose()
    arm = _armature()
    if view == "turned" and arm is not None:
        turn_bone("Head", "Z", 30.0)  # +z up: towards the head's left (+x), which looks at −y
        turn_bone("Head", "X", 15.0)  # chin down
        for eye in ("LeftEye", "RightEye"):
            if eye in arm.pose.bones:
                turn_bone(eye, "Z", -20.0)
    if view == "photo" and arm is not None:
        action = bpy.data.actions.get("photo_pose") or next(
            (a for a in bpy.data.actions if a.name.startswith("photo_pose")), None)
        if action is not None:
            arm.animation_data_create().action = action
            bpy.context.scene.frame_set(0)
            bpy.context.scene.frame_set(1)
    if view == "close":
        return Vector((0.0, -0.45, 0.04))
    return Vector((1.2, 0.0, 0.0)) if view == "side" else Vector((0.0, -1.2, 0.0))


def render(path: str, view: str = "front") -> None:
    """A view of the head with a smile (Cycles, CPU); ``view`` as in the module docstring."""
    camera_at = pose_view(view)
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
    if scene.world is None:
        world = bpy.data.worlds.new("world")
        scene.world = world
        world.use_nodes = True
        world.node_tree.nodes["Background"].inputs[1].default_value = 1.0
    camera = scene.camera
    if camera is None:
        camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
        camera.data.lens = 85
        scene.collection.objects.link(camera)
        scene.camera = camera
        sun = bpy.data.objects.new("key", bpy.data.lights.new("key", "SUN"))
        sun.data.energy = 3.0
        sun.rotation_euler = (math.radians(60), 0.0, math.radians(30))
        scene.collection.objects.link(sun)
    camera.location = camera_at  # glTF +Z (the face's front) is Blender's -Y
    camera.rotation_euler = (-camera.location).to_track_quat("-Z", "Y").to_euler()
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)


def main() -> None:
    """Import the GLB named after ``--``, print the report, render the asked views."""
    args = sys.argv[sys.argv.index("--") + 1 :]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=args[0])
    print("HEADCAST_REPORT " + json.dumps(report()), flush=True)
    if len(args) == 2:
        render(args[1])
    for view in args[2:]:
        render(args[1].removesuffix(".png") + f"_{view}.png", view)


main()
