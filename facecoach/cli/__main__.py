"""``python -m facecoach.cli`` — the same as the ``facecoach`` command."""

from facecoach.cli import main

main()
