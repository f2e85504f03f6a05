// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Filters apply as soon as a select changes.
  const filters = document.getElementById("library-filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (el) {
      el.addEventListener("change", function () { filters.submit(); });
    });
  }
  // Confirm destructive forms.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });
  // Poll a running video audit and update its progress bar; reload when done.
  const job = document.querySelector("[data-audit-job]");
  if (job) {
    const url = "/api/audits/" + job.getAttribute("data-audit-job");
    const bar = job.querySelector("progress");
    const label = job.querySelector("[data-status]");
    const tick = async function () {
      try {
        const res = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!res.ok) return;
        const data = await res.json();
        if (bar) bar.value = data.progress;
        if (label) label.textContent = data.status + " · " + Math.round(data.progress * 100) + "%";
        if (data.status === "done" || data.status === "failed") { window.location.reload(); return; }
      } catch (e) { /* try again */ }
      window.setTimeout(tick, 800);
    };
    if (job.getAttribute("data-running") === "yes") window.setTimeout(tick, 500);
  }
})();
