"""Fitting the morphable head to landmarks: camera, pose, identity, expression."""
