// Webcam snapshot for the face scan: the frame becomes the form's photo file (nothing is sent until submit).
(function () {
  "use strict";
  const start = document.getElementById("camera-start");
  const box = document.getElementById("camera");
  const video = document.getElementById("camera-video");
  const snap = document.getElementById("camera-snap");
  const status = document.getElementById("camera-status");
  const input = document.getElementById("photo");
  const preview = document.getElementById("snapshot-preview");
  if (!start || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    if (start) start.classList.add("hidden");
    return;
  }
  let stream = null;
  start.addEventListener("click", async function () {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: false });
      video.srcObject = stream;
      box.classList.remove("hidden");
      start.classList.add("hidden");
    } catch (err) {
      start.textContent = "The camera is not available (" + err.name + ")";
      start.disabled = true;
    }
  });
  snap.addEventListener("click", function () {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      const file = new File([blob], "snapshot.jpg", { type: "image/jpeg" });
      const dt = new DataTransfer();
      dt.items.add(file);
      input.files = dt.files;
      preview.src = URL.createObjectURL(blob);
      preview.classList.remove("hidden");
      status.textContent = "Snapshot taken — press “Scan my face”.";
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      box.classList.add("hidden");
    }, "image/jpeg", 0.92);
  });
})();
