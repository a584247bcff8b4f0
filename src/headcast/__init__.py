"""headcast: one portrait photo in, a textured, animatable 3D head avatar out.

The subpackages follow the pipeline (see ``docs/design.md``)::

    landmarks -> fitting -> texture -> (hair) -> render / export
         ^          ^
      assets    headmodel, geometry
"""

__version__ = "0.2.0"
