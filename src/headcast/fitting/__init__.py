"""Fitting the morphable head to landmarks: camera, pose, identity, expression.

Design note (layers, bottom up):

* ``embedding`` — pure geometry (Umeyama similarity, closest points on triangles, mesh boundary loops);
* ``mediapipe_embedding`` — builds the MediaPipe-478 → model surface table (run by
  ``scripts/make_correspondences.py``); ``correspondence`` — that table as a frozen dataclass, its loader and its
  byte-reproducible writer (``data/ict_mediapipe_correspondence.npz``, checked in);
* ``blendshapes`` — MediaPipe blendshape names/scores → model expression weights;
* ``solver`` — robust, box-constrained Levenberg-Marquardt on the normal equations;
* ``fit`` — the energy, its analytic Jacobian and ``fit_head`` (pose init, silhouette sliding of the jaw line,
  joint solve); ``metrics`` — NME; ``settings`` — ``FitSettings``; ``types`` — ``FitResult``.

Conventions follow docs/conventions.md: metres, OpenGL camera looking down −z, top-left pixel origin,
axis-angle rotations, ``_L`` = the head's left (+x).
"""
