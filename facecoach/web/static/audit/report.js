// The audit report: the video and every time axis on the page in step. A click on a segment, a fault
// or anywhere on a chart seeks the video there; while it plays, the playhead line on each chart and
// timeline follows, and the segment being played is outlined. No other origin, no inline script.
(function () {
  "use strict";
  const video = document.getElementById("audit-video");
  if (!video) return;
  const charts = Array.prototype.slice.call(document.querySelectorAll("svg.synced"));
  const segments = Array.prototype.slice.call(document.querySelectorAll("[data-segment]"));
  const bounds = segments.map(function (el) {
    const btn = el.querySelector("[data-seek]");
    return btn ? parseFloat(btn.getAttribute("data-seek")) : 0;
  });

  function seek(t) {
    if (!isFinite(t)) return;
    video.currentTime = Math.max(0, t);
    video.dispatchEvent(new Event("timeupdate"));
  }

  document.addEventListener("click", function (ev) {
    const target = ev.target instanceof Element ? ev.target.closest("[data-seek]") : null;
    if (target) {
      ev.preventDefault();
      seek(parseFloat(target.getAttribute("data-seek")));
      return;
    }
    const svg = ev.target instanceof Element ? ev.target.closest("svg.synced") : null;
    if (!svg) return;
    const box = svg.getBoundingClientRect();
    const scale = parseFloat(svg.getAttribute("data-view-width")) / box.width;
    const x = (ev.clientX - box.left) * scale;
    const left = parseFloat(svg.getAttribute("data-left"));
    const width = parseFloat(svg.getAttribute("data-width"));
    const duration = parseFloat(svg.getAttribute("data-duration"));
    if (x >= left && x <= left + width) seek(((x - left) / width) * duration);
  });

  function mark() {
    const t = video.currentTime;
    charts.forEach(function (svg) {
      const left = parseFloat(svg.getAttribute("data-left"));
      const width = parseFloat(svg.getAttribute("data-width"));
      const duration = parseFloat(svg.getAttribute("data-duration"));
      const x = (left + Math.min(Math.max(t / duration, 0), 1) * width).toFixed(1);
      svg.querySelectorAll("line.playhead").forEach(function (line) {
        line.setAttribute("x1", x);
        line.setAttribute("x2", x);
      });
    });
    let current = -1;
    bounds.forEach(function (start, i) { if (t + 1e-3 >= start) current = i; });
    segments.forEach(function (el, i) { el.classList.toggle("current", i === current); });
    document.documentElement.setAttribute("data-audit-time", t.toFixed(2));
  }
  video.addEventListener("timeupdate", mark);
  video.addEventListener("seeked", mark);
  mark();
})();
