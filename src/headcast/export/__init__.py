"""Writers (and readers) of the avatar bundle: GLB, OBJ/MTL/PNG, params.json, previews, zip."""
