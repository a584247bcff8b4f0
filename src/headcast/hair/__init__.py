"""Strand hair: scalp and head SDF, photo analysis, procedural grooms, reconstruction, library, alignment, files.

Only the data types are imported here (the stages import numpy/scipy/OpenCV/GL); see ``DESIGN.md`` for the layout.
"""

from headcast.hair.types import HairAnalysis, HairParams, Strands

__all__ = ["HairAnalysis", "HairParams", "Strands"]
