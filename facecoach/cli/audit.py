"""``facecoach audit``: the coaching engine over a recorded video."""
