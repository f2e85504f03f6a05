// Starts ReDoc (served by facecoach itself from node_modules/redoc) on the app's OpenAPI document: no CDN,
// no inline script; fonts are the system's (ReDoc would otherwise ask for web fonts from another origin).
// ReDoc inserts its styles at run time: they carry this response's CSP nonce (data-nonce), the only inline
// styles the page's policy accepts. This file runs before the bundle (whose load-time styles read
// window.facecoachStyleNonce) and starts ReDoc once the page is parsed.
(function () {
  const root = document.getElementById("redoc");
  window.facecoachStyleNonce = root.dataset.nonce;
  document.addEventListener("DOMContentLoaded", function () {
    const system = "system-ui, -apple-system, 'Segoe UI', sans-serif";
    window.Redoc.init(
      root.dataset.openapiUrl,
      {
        nonce: root.dataset.nonce,
        theme: {
          typography: { fontFamily: system, headings: { fontFamily: system }, code: { fontFamily: "ui-monospace, monospace" } },
        },
      },
      root,
    );
  });
})();
