// Starts Swagger UI (served by facecoach itself) on the app's OpenAPI document: no CDN, no inline script.
// "Try it out" works signed in with the session cookie: every write gets the X-CSRF-Token header, read
// from GET /api/me (fresh after logging in or out). A request that carries a bearer token (entered with
// "Authorize") needs no CSRF token and gets none.
(function () {
  const root = document.getElementById("swagger-ui");
  const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

  async function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    try {
      const r = await fetch("/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (r.ok) return (await r.json()).csrf_token || "";
    } catch (e) {
      // fall back to the page's meta tag below
    }
    return meta ? meta.content : "";
  }

  async function addCsrf(request) {
    const method = (request.method || "GET").toUpperCase();
    const headers = request.headers || (request.headers = {});
    const hasBearer = Object.keys(headers).some(
      (k) => k.toLowerCase() === "authorization" && /^bearer\s/i.test(headers[k]),
    );
    if (!SAFE.has(method) && !hasBearer) {
      const token = await csrfToken();
      if (token) headers["X-CSRF-Token"] = token;
    }
    request.credentials = "same-origin";
    return request;
  }

  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    requestInterceptor: addCsrf,
    validatorUrl: null, // never ask the public validator (another origin) about our document
  });
})();
