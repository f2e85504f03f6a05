// The massage stroke map: a face outline in SVG with each stroke drawn in order, arrow heads for the
// direction (it matters for lymphatic drainage) and a dot travelling along it. Stroke coordinates are the
// knowledge base's normalised face coordinates: x 0 = the person's right … 1 = their left, y 0 = hairline
// … 1 = chin, below 1 the neck. The map is drawn as a mirror (the person's left on the viewer's left) so
// it matches what they see in a mirror or in the camera view.

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

function outline(svg) {
  const g = el("g", { fill: "none", stroke: "#8a8f98", "stroke-width": 0.8 }, svg);
  el("ellipse", { cx: 50, cy: 58, rx: 36, ry: 48 }, g); // face
  el("path", { d: "M36 104 L34 125 M64 104 L66 125" }, g); // neck
  el("path", { d: "M28 42 q8 -5 16 0 M56 42 q8 -5 16 0" }, g); // brows
  el("ellipse", { cx: 36, cy: 49, rx: 6, ry: 2.6 }, g);
  el("ellipse", { cx: 64, cy: 49, rx: 6, ry: 2.6 }, g);
  el("path", { d: "M50 50 L46 70 q4 3 8 0" }, g); // nose
  el("path", { d: "M40 82 q10 6 20 0 q-10 -3 -20 0" }, g); // mouth
  el("ellipse", { cx: 13, cy: 56, rx: 3, ry: 7 }, g); // ears
  el("ellipse", { cx: 87, cy: 56, rx: 3, ry: 7 }, g);
  const labels = el("g", { fill: "#5c6370", "font-size": 4.2, stroke: "none" }, svg);
  el("text", { x: 4, y: 132 }, labels).textContent = "your left";
  el("text", { x: 78, y: 132 }, labels).textContent = "your right";
}

function mirrored(path) {
  return path.map(([x, y]) => [1 - x, y]);
}

export function drawStrokeMap(svg, strokes) {
  svg.replaceChildren();
  const defs = el("defs", {}, svg);
  const marker = el(
    "marker",
    { id: "arrow", viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" },
    defs,
  );
  el("path", { d: "M0 0 L10 5 L0 10 z", fill: "#c9734f" }, marker);
  outline(svg);
  const colours = ["#c9734f", "#2f6f6a", "#7a5ea8", "#a86a00", "#3b6fb2"];
  strokes.forEach((s, i) => {
    const paths = s.sides === "both" ? [s.path, mirrored(s.path)] : [s.path];
    const colour = colours[i % colours.length];
    for (const p of paths) {
      const d = p.map(([x, y], k) => `${k ? "L" : "M"}${px(x).toFixed(2)} ${py(y).toFixed(2)}`).join(" ");
      const line = el(
        "path",
        { d, fill: "none", stroke: colour, "stroke-width": 1.6, "stroke-linecap": "round", "marker-end": "url(#arrow)", "marker-mid": "url(#arrow)", class: "stroke" },
        svg,
      );
      line.dataset.stroke = String(i);
      const dot = el("circle", { r: 1.8, fill: colour }, svg);
      el("animateMotion", { dur: "2.4s", repeatCount: "indefinite", path: d, begin: `${(i * 0.4).toFixed(1)}s` }, dot);
    }
    const [lx, ly] = s.path[0];
    el("text", { x: px(lx) + 1.5, y: py(ly) - 1.5, "font-size": 4, fill: colour }, svg).textContent = String(i + 1);
  });
}
