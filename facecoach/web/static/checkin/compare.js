// Before/after: a slider uncovers the after picture over the before one; Blink swaps them.
(function () {
  const over = document.getElementById("stack-after");
  const slider = document.getElementById("compare-slider");
  const blink = document.getElementById("compare-blink");
  if (!over || !slider || !blink) return;
  let timer = null;
  function show(v) {
    over.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
    over.dataset.shown = String(v);
  }
  slider.addEventListener("input", () => show(Number(slider.value)));
  blink.addEventListener("click", () => {
    if (timer) {
      clearInterval(timer);
      timer = null;
      blink.setAttribute("aria-pressed", "false");
      show(Number(slider.value));
      return;
    }
    blink.setAttribute("aria-pressed", "true");
    let on = true;
    timer = setInterval(() => {
      on = !on;
      show(on ? 100 : 0);
    }, 700);
    show(100);
  });
  show(Number(slider.value));
})();
