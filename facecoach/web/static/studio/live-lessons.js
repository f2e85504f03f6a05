// The instructor's lesson beside the live step: for each step of the session that has a published
// lesson (asked once from /lessons/for), a "Watch the instructor" video under the step's name, switched
// when the coach moves to another step (it writes "Step N of M" into #step-counter).
const config = JSON.parse(document.getElementById("live-config")?.textContent || "{}");
const steps = config.steps || [];
const head = document.querySelector(".live-step-head");
const counter = document.getElementById("step-counter");

function panel() {
  const box = document.createElement("details");
  box.className = "card live-lesson";
  box.id = "live-lesson";
  box.hidden = true;
  const summary = document.createElement("summary");
  summary.textContent = "Watch the instructor";
  const video = document.createElement("video");
  video.className = "lesson-video";
  video.controls = true;
  video.playsInline = true;
  video.preload = "metadata";
  box.append(summary, video);
  return box;
}

async function start() {
  if (!head || !counter || !steps.length) return;
  const ids = [...new Set(steps.map((s) => s.id))].join(",");
  const answer = await fetch(`/lessons/for?ids=${encodeURIComponent(ids)}`, { credentials: "same-origin" });
  if (!answer.ok) return;
  const { lessons } = await answer.json();
  if (!lessons || !Object.keys(lessons).length) return;
  const box = panel();
  head.after(box);
  const video = box.querySelector("video");
  let shown = null;
  const show = () => {
    const n = Number((counter.textContent.match(/Step (\d+)/) || [])[1] || 0);
    const step = steps[n - 1];
    const lesson = step ? lessons[step.id] : null;
    box.hidden = !lesson;
    if (!lesson || shown === step.id) return;
    shown = step.id;
    video.pause();
    video.poster = lesson.poster || "";
    video.src = lesson.video;
    box.dataset.technique = step.id;
  };
  new MutationObserver(show).observe(counter, { childList: true, characterData: true, subtree: true });
  show();
}

start();
