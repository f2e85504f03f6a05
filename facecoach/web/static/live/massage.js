// The massage stroke map: a face outline in SVG with each stroke drawn in order, arrow heads for the
// direction (it matters for lymphatic drainage) and a dot travelling along it. Stroke coordinates are the
// knowledge base's normalised face coordinates: x 0 = the person's right … 1 = their left, y 0 = hairline
// … 1 = chin, below 1 the neck. The map is drawn as a mirror (the person's left on the viewer's left) so
// it matches what they see in a mirror or in the camera view: the site's one convention, whose sentence
// (facecoach.web.diagrams.SIDES_NOTE) the server passes in the page's config and the page shows under it.

const NS = "http://www.w3.org/2000/svg";
const SCALE_X = 80; // face width in viewBox units
const OFF_X = 10;
const SCALE_Y = 100;
const OFF_Y = 10;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.append(e);
  return e;
}

// Mirror: the person's left (x = 1) is drawn on the viewer's left.
const px = (x) => OFF_X + (1 - x) * SCALE_X;
const py = (y) => OFF_Y + y * SCALE_Y;

function outline(svg, bottom) {
  const g = el("g", { fill: "none", stroke: "#8a8f98", "stroke-width": 0.8 }, svg);
  // Hairline at y = 0 (10 units), chin at y = 1 (110 units), as the stroke coordinates define them.
  el("path", { d: "M50 10 C75 10 88 24 88 44 L88 62 C88 82 72 100 50 110 C28 100 12 82 12 62 L12 44 C12 24 25 10 50 10 Z" }, g);
  el("path", { d: `M36 106 L34 ${bottom - 8} M64 106 L66 ${bottom - 8}` }, g); // neck
  el("path", { d: "M27 42 q9 -5 17 0 M56 42 q9 -5 17 0" }, g); // brows
  el("ellipse", { cx: 35, cy: 50, rx: 6, ry: 2.6 }, g);
  el("ellipse", { cx: 65, cy: 50, rx: 6, ry: 2.6 }, g);
  el("path", { d: "M50 52 L46 74 q4 3 8 0" }, g); // nose
  el("path", { d: "M40 88 q10 6 20 0 q-10 -3 -20 0" }, g); // mouth
  el("ellipse", { cx: 9, cy: 56, rx: 3, ry: 8 }, g); // ears
  el("ellipse", { cx: 91, cy: 56, rx: 3, ry: 8 }, g);
  const labels = el("g", { fill: "#5c6370", "font-size": 4.2, stroke: "none" }, svg);
  el("text", { x: 4, y: bottom - 2, "data-side": "left" }, labels).textContent = "your left";
  el("text", { x: 78, y: bottom - 2, "data-side": "right" }, labels).textContent = "your right";
}

function mirrored(path) {
  return path.map(([x, y]) => [1 - x, y]);
}

export function drawStrokeMap(svg, strokes) {
  svg.replaceChildren();
  const maxY = Math.max(1.25, ...strokes.flatMap((s) => s.path.map((p) => p[1])));
  const bottom = Math.ceil(py(maxY) + 12);
  svg.setAttribute("viewBox", `0 0 100 ${bottom}`);
  const defs = el("defs", {}, svg);
  outline(svg, bottom);
  const colours = ["#c9734f", "#2f6f6a", "#7a5ea8", "#a86a00", "#3b6fb2"];
  strokes.forEach((s, i) => {
    const colour = colours[i % colours.length];
    const marker = el(
      "marker",
      { id: `arrow-${i}`, viewBox: "0 0 10 10", refX: 7, refY: 5, markerWidth: 4, markerHeight: 4, orient: "auto" },
      defs,
    );
    el("path", { d: "M0 0 L10 5 L0 10 z", fill: colour }, marker);
    const paths = s.sides === "both" ? [s.path, mirrored(s.path)] : [s.path];
    for (const p of paths) {
      const d = p.map(([x, y], k) => `${k ? "L" : "M"}${px(x).toFixed(2)} ${py(y).toFixed(2)}`).join(" ");
      const line = el(
        "path",
        { d, fill: "none", stroke: colour, "stroke-width": 1.6, "stroke-linecap": "round", "stroke-linejoin": "round", "marker-end": `url(#arrow-${i})`, class: "stroke" },
        svg,
      );
      line.dataset.stroke = String(i);
      // A dot travels along the stroke, start to end: the direction at a glance.
      const dot = el("circle", { r: 1.8, fill: colour }, svg);
      el("animateMotion", { dur: "2.4s", repeatCount: "indefinite", path: d, begin: `${(i * 0.4).toFixed(1)}s` }, dot);
    }
    const [lx, ly] = s.path[0];
    el("text", { x: px(lx) + 1.5, y: py(ly) - 1.5, "font-size": 4, fill: colour }, svg).textContent = String(i + 1);
  });
}

/**
 * A stroke the camera saw (a `stroke` event: start and end in stroke coordinates), drawn on the map as a
 * line with a dot at its end: green when it counts, red when it has a fault (the wrong way, too fast…).
 */
export function markStroke(svg, ev) {
  if (!ev || !ev.start || !ev.end) return;
  const good = !(ev.faults && ev.faults.length);
  const colour = good ? "#1f7a3a" : "#b3261e";
  const [x0, y0] = ev.start;
  const [x1, y1] = ev.end;
  const g = el("g", { class: "seen-stroke", "data-good": good ? "1" : "0" }, svg);
  el("line", { x1: px(x0), y1: py(y0), x2: px(x1), y2: py(y1), stroke: colour, "stroke-width": 1.2, "stroke-opacity": 0.85, "stroke-dasharray": "2 1" }, g);
  el("circle", { cx: px(x1), cy: py(y1), r: 1.4, fill: colour }, g);
}
