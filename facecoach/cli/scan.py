"""``facecoach scan``: face scan of a photo or a short video."""
