"""Inline SVG drawn on the server: the face outline with massage strokes, the map of face regions.

Stroke coordinates are the knowledge base's normalised face coordinates (see
``facecoach.knowledge.models.Stroke``): x 0 = the person's right (image left) … 1 = the person's left;
y 0 = hairline … 1 = chin, down to 1.6 at the collarbones.

One convention everywhere: "left" and "right" are the person's own sides, and every face drawing is drawn
as the person sees themself in a mirror — or in the coach's (mirrored) camera view: their left on the
drawing's left. Each drawing says so on itself ("your left" / "your right"), and :data:`SIDES_NOTE` is the
one sentence the pages put under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# Drawing frame (SVG user units): where the face's normalised box lands.
X0, X1 = 38.0, 162.0  # ear to ear
Y0, Y1 = 52.0, 190.0  # hairline to chin
WIDTH, HEIGHT = 200, 300
STROKE_COLOURS = ("#2f6f6a", "#c9734f", "#5b6fb3", "#9a5bb3", "#b38f2f", "#3f8f4f")
SIDES_NOTE = "Drawn as you see yourself in a mirror or in the coach's camera: your left is on the left."


def to_svg(x: float, y: float) -> tuple[float, float]:
    """Normalised face coordinates to drawing units, mirrored: x = 1 (the person's left) lands on the left."""
    return X0 + (1.0 - x) * (X1 - X0), Y0 + y * (Y1 - Y0)


def _side_labels() -> str:
    """ "your left" / "your right" at the top corners of the drawing: the convention stated on the picture."""
    return (
        '<g class="side-labels" font-size="10" fill="#4b525b" font-family="DejaVu Sans, sans-serif">'
        '<text x="4" y="14" data-side="left">your left</text>'
        f'<text x="{WIDTH - 4}" y="14" text-anchor="end" data-side="right">your right</text></g>'
    )


def _face_outline() -> str:
    """Head, ears, neck, brows, eyes, nose, mouth — a calm line drawing."""
    ex, ey = to_svg(0.32, 0.42)
    ex2, _ = to_svg(0.68, 0.42)
    bx, by = to_svg(0.32, 0.33)
    bx2, _ = to_svg(0.68, 0.33)
    nx, ny = to_svg(0.5, 0.64)
    mx, my = to_svg(0.5, 0.8)
    return (
        '<g class="face" fill="none" stroke="#b9b1a6" stroke-width="1.6" stroke-linecap="round">'
        f'<path d="M72 176 L70 292 M128 176 L130 292" />'
        f'<path d="M70 268 Q100 280 130 268" stroke-dasharray="3 4" />'
        '<ellipse cx="100" cy="118" rx="62" ry="80" fill="#fbf8f4" />'
        '<path d="M38 104 Q28 118 38 136 M162 104 Q172 118 162 136" />'
        f'<path d="M{bx - 14:.1f} {by:.1f} Q{bx:.1f} {by - 6:.1f} {bx + 14:.1f} {by:.1f}'
        f' M{bx2 - 14:.1f} {by:.1f} Q{bx2:.1f} {by - 6:.1f} {bx2 + 14:.1f} {by:.1f}" />'
        f'<ellipse cx="{ex:.1f}" cy="{ey:.1f}" rx="10" ry="4.5" />'
        f'<ellipse cx="{ex2:.1f}" cy="{ey:.1f}" rx="10" ry="4.5" />'
        f'<path d="M{nx:.1f} {ey + 6:.1f} L{nx - 6:.1f} {ny:.1f} Q{nx:.1f} {ny + 4:.1f}'
        f' {nx + 6:.1f} {ny:.1f}" />'
        f'<path d="M{mx - 15:.1f} {my:.1f} Q{mx:.1f} {my + 7:.1f} {mx + 15:.1f} {my:.1f}" />'
        "</g>"
    )


def _mirror(path: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(1.0 - x, y) for x, y in path]


def stroke_diagram(strokes: Sequence[object], diagram_id: str, title: str = "") -> Markup:
    """The massage strokes drawn on the face outline, each with an arrow giving its direction.

    ``strokes``: objects with ``label``, ``path`` [(x, y)…], ``sides`` ('both' draws it on each side,
    mirrored), ``repeat`` — the knowledge base's ``Stroke`` model.
    """
    safe_id = "".join(ch if ch.isalnum() else "-" for ch in diagram_id)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{safe_id}-t" class="stroke-diagram"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{safe_id}-t">{escape(title or "Massage strokes")}</title>',
        "<defs>",
    ]
    for i, colour in enumerate(STROKE_COLOURS):
        parts.append(
            f'<marker id="{safe_id}-a{i}" viewBox="0 0 10 10" refX="7" refY="5" markerWidth="5"'
            f' markerHeight="5"'
            f' orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="{colour}" /></marker>'
        )
    parts.append("</defs>")
    parts.append(_face_outline())
    parts.append(_side_labels())
    legend = []
    for i, stroke in enumerate(strokes):
        colour_index = i % len(STROKE_COLOURS)
        colour = STROKE_COLOURS[colour_index]
        path = [(float(x), float(y)) for x, y in getattr(stroke, "path", [])]
        if len(path) < 2:
            continue
        sides = getattr(stroke, "sides", "both")
        paths = [path, _mirror(path)] if sides == "both" else [path]
        for p in paths:
            pts = " ".join(f"{sx:.1f},{sy:.1f}" for sx, sy in (to_svg(x, y) for x, y in p))
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2.6"'
                f' stroke-linecap="round"'
                f' stroke-linejoin="round" marker-end="url(#{safe_id}-a{colour_index})" />'
            )
            sx, sy = to_svg(*p[0])
            parts.append(f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="2.6" fill="{colour}" />')
        legend.append((colour, f"{getattr(stroke, 'label', '')} ×{getattr(stroke, 'repeat', 1)}"))
    parts.append("</svg>")
    items = "".join(
        f'<li><svg viewBox="0 0 14 14" width="14" height="14" aria-hidden="true"><rect width="14"'
        f' height="14" rx="3"'
        f' fill="{c}"/></svg> {escape(text)}</li>'
        for c, text in legend
    )
    return Markup("".join(parts) + (f'<ul class="list-plain stroke-legend">{items}</ul>' if items else ""))


# Face regions as shapes in the same frame (normalised polygons), person's sides as in the drawing.
REGION_SHAPES: dict[str, list[list[tuple[float, float]]]] = {
    "forehead": [[(0.16, 0.02), (0.84, 0.02), (0.9, 0.25), (0.1, 0.25)]],
    "brows": [
        [(0.12, 0.26), (0.46, 0.26), (0.46, 0.35), (0.12, 0.35)],
        [(0.54, 0.26), (0.88, 0.26), (0.88, 0.35), (0.54, 0.35)],
    ],
    "eyes": [
        [(0.14, 0.36), (0.45, 0.36), (0.45, 0.5), (0.14, 0.5)],
        [(0.55, 0.36), (0.86, 0.36), (0.86, 0.5), (0.55, 0.5)],
    ],
    "nose": [[(0.46, 0.36), (0.54, 0.36), (0.6, 0.68), (0.4, 0.68)]],
    "cheeks": [
        [(0.04, 0.5), (0.38, 0.5), (0.36, 0.74), (0.08, 0.74)],
        [(0.62, 0.5), (0.96, 0.5), (0.92, 0.74), (0.64, 0.74)],
    ],
    "mouth": [[(0.36, 0.7), (0.64, 0.7), (0.66, 0.88), (0.34, 0.88)]],
    "chin": [[(0.36, 0.89), (0.64, 0.89), (0.6, 1.0), (0.4, 1.0)]],
    "jaw": [
        [(0.02, 0.62), (0.12, 0.76), (0.34, 0.98), (0.26, 1.02), (0.04, 0.82)],
        [(0.98, 0.62), (0.88, 0.76), (0.66, 0.98), (0.74, 1.02), (0.96, 0.82)],
    ],
    "neck": [[(0.26, 1.06), (0.74, 1.06), (0.76, 1.5), (0.24, 1.5)]],
}
REGION_FILLS = {
    "overused": "#f7e0d6",
    "underused": "#dcefe9",
    "balanced": "#ece8e1",
}


def regions_diagram(region_use: dict[str, str], counts: dict[str, int]) -> Markup:
    """Each region a link to the library filtered on it, tinted by how a typical face uses its muscles
    (``region_use``: region → overused | underused | balanced), labelled with its number of muscles."""
    parts = [
        # A group, not an image: it holds links (an image with links inside is nested interaction).
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-labelledby="regions-t"'
        ' class="regions-diagram" xmlns="http://www.w3.org/2000/svg">'
        '<title id="regions-t">Regions of the face</title>',
        _face_outline(),
        _side_labels(),
    ]
    for region, shapes in REGION_SHAPES.items():
        fill = REGION_FILLS.get(region_use.get(region, "balanced"), REGION_FILLS["balanced"])
        parts.append(f'<a href="/library?region={region}" class="region" data-region="{region}">')
        parts.append(f"<title>{escape(region)}: {counts.get(region, 0)} muscles</title>")
        for poly in shapes:
            pts = " ".join(f"{sx:.1f},{sy:.1f}" for sx, sy in (to_svg(x, y) for x, y in poly))
            parts.append(
                f'<polygon points="{pts}" fill="{fill}" fill-opacity="0.85" stroke="#8a8177"'
                f' stroke-width="0.8" />'
            )
        parts.append(_region_label(region, shapes[0]) + "</a>")
    parts.append("</svg>")
    return Markup("".join(parts))


#: Where a label would not fit around its shape's centre: (x, y) in face coordinates and the angle (degrees,
#: along the shape) — the nose is narrow at the top, the jaw is a slanted band.
REGION_LABEL_AT: dict[str, tuple[float, float, float | None]] = {
    "nose": (0.5, 0.62, 0.0),
    "jaw": (0.19, 0.895, None),  # None: along the band, from its corners
}
LABEL_SIZE = {"nose": 6.5}


def _region_label(region: str, shape: Sequence[tuple[float, float]]) -> str:
    """The region's name inside its (first) shape, centred on the point and angle that keep it inside."""
    cx, cy, angle = REGION_LABEL_AT.get(
        region, (sum(x for x, _ in shape) / len(shape), sum(y for _, y in shape) / len(shape), 0.0)
    )
    if angle is None:  # the band's direction: from its first corner to its third, as drawn
        (ax, ay), (bx, by) = to_svg(*shape[1]), to_svg(*shape[2])
        angle = math.degrees(math.atan2(by - ay, bx - ax))
        angle = angle - 180 if angle > 90 else (angle + 180 if angle < -90 else angle)
    lx, ly = to_svg(cx, cy)
    size = LABEL_SIZE.get(region, 7.5)
    rotate = f' transform="rotate({angle:.1f} {lx:.1f} {ly:.1f})"' if angle else ""
    return (
        f'<text x="{lx:.1f}" y="{ly + size / 3:.1f}" font-size="{size}" text-anchor="middle" fill="#1f2328"'
        f' font-family="DejaVu Sans, sans-serif" class="region-label"{rotate}>{escape(region)}</text>'
    )


REGION_LEGEND = (
    ("overused", "mostly over-used muscles: release them"),
    ("underused", "muscles that benefit from exercise"),
    ("balanced", "balanced: neither"),
)


def regions_legend() -> Markup:
    """The key to the map's tints, one swatch per use (the same fills as :data:`REGION_FILLS`)."""
    items = "".join(
        f'<li data-use="{use}"><svg viewBox="0 0 16 16" aria-hidden="true"><rect x="0.5" y="0.5" width="15"'
        f' height="15" rx="3" fill="{REGION_FILLS[use]}" stroke="#8a8177" /></svg>{escape(text)}</li>'
        for use, text in REGION_LEGEND
    )
    return Markup(f'<ul class="legend" id="regions-legend">{items}</ul>')
