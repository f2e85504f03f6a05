"""The habit guard (issue 16): held frowns, raised brows, squints, pressed lips and one-sided smirks at
the desk, noticed on the device against the member's own neutral face, nudged gently and rarely.

``rules`` reads the one definition (``data/habits.yaml``); ``detector`` is the pure per-frame logic
(the page runs its twin, ``web/static/guard/detector.js``, from the same rules); ``policy`` decides when a
nudge may be shown; ``store`` keeps the member's settings and (opt-in) counts.
"""
