// Starts ReDoc (served by facecoach itself, node_modules/redoc) on the app's OpenAPI document: no CDN, no
// inline script; fonts are the system's (ReDoc would otherwise ask for web fonts from another origin).
(function () {
  const root = document.getElementById("redoc");
  window.Redoc.init(
    root.dataset.openapiUrl,
    {
      hideDownloadButton: false,
      disableSearch: false,
      theme: { typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" }, code: { fontFamily: "ui-monospace, monospace" } } },
    },
    root,
  );
})();
