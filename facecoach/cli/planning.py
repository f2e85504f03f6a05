"""``facecoach assess`` and ``facecoach plan``."""
