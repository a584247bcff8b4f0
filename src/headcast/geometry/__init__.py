"""Pure geometric maths (rotations, pinhole projection, mesh helpers). Conventions: docs/conventions.md."""
