"""Vision layer: frame sources, the MediaPipe Face Landmarker, quality gate, head pose, scale, the scan."""
