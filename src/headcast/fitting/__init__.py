"""Fitting the morphable head to landmarks: camera, pose, identity, expression.

Design note (layers, bottom up):

* ``embedding`` — pure geometry (Umeyama similarity, closest points on triangles, mesh boundary loops);
* ``mediapipe_embedding`` — builds the MediaPipe-478 → model surface table (run by
  ``scripts/make_correspondences.py``); ``correspondence`` — that table as a frozen dataclass, its loader and its
  byte-reproducible writer (``data/ict_mediapipe_correspondence.npz``, checked in);
* ``blendshapes`` — MediaPipe blendshape names/scores → model expression weights;
* ``flame_correspondence`` — the fixed ICT FaceKit ↔ FLAME table made from the two templates (similarity + landmark
  warp + closest points on ICT's skin; ``scripts/make_flame_correspondence.py``, ``data/ict_flame_correspondence.npz``,
  CC-BY attribution in its docstring); ``flame_fit`` — FLAME β, ψ, θ fitted to 3D targets (variable projection: a
  ridge solve for β, ψ, translation inside a least-squares refinement of the global, neck and jaw rotations) and to
  an ICT head (``headcast make --flame-model``, written by ``export.flame_params``);
* ``solver`` — robust, box-constrained Levenberg-Marquardt on the normal equations;
* ``fit`` — the energy, its analytic Jacobian and ``fit_head`` (pose init, silhouette sliding of the jaw line,
  joint solve); the learned model of the detector's landmark error that gives the identity
  (``data/mediapipe_landmark_noise.npz``, checked in, written by ``scripts/synthetic_fit_study.py --learn-noise``
  from renders of random heads; relearn it whenever the landmark table changes); ``metrics`` — NME;
  ``settings`` — ``FitSettings``; ``types`` — ``FitResult``.

Conventions follow docs/conventions.md: metres, OpenGL camera looking down −z, top-left pixel origin,
axis-angle rotations, ARKit's ``Left`` = the head's left (+x).
"""
