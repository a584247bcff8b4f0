"""Morphable head models: a linear interface (template + identity + named expressions) and ICT FaceKit."""

from headcast.headmodel.base import HeadMesh, HeadParams, LinearHeadModel, blend_vertices, pose_head

__all__ = ["HeadMesh", "HeadParams", "LinearHeadModel", "blend_vertices", "pose_head"]
