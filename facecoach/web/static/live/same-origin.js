// Nothing leaves this page for another site (issue 15). The Face Landmarker library (@mediapipe/tasks-vision
// 1.1.0) starts a usage logger with every task it creates: it POSTs statistics to
// https://odml.pa.googleapis.com/v1/log with fetch() every 60 s and when the task closes. The library has no
// switch for it: `enableLogging` is declared in vision.d.ts but not implemented, and the logger is built
// unconditionally in createFromOptions (see docs/live-protocol.md, "Nothing else leaves either"). So the
// page itself refuses, before anything is sent, every fetch, XMLHttpRequest and sendBeacon to another
// origin; the logger takes the refusal as a failed send and stops for good. The CSP (connect-src 'self')
// stays as the fence for the rest (a WebSocket to another host is refused by it, and reported).

const refused = [];
let told = null; // (origin) => void: a worker tells its page (see hands-worker.js)

function foreign(url) {
  let u;
  try {
    u = new URL(String(url), location.href);
  } catch (e) {
    return false; // not a URL at all: the browser's own API will refuse it
  }
  if (u.protocol === "data:" || u.protocol === "blob:") return false; // never leaves the browser
  return u.origin !== location.origin;
}

function refuse(url) {
  const origin = (() => {
    try {
      return new URL(String(url), location.href).origin;
    } catch (e) {
      return String(url);
    }
  })();
  noteRefused(origin);
  if (told) told(origin);
  return new TypeError(`facecoach keeps requests on this site: ${origin} refused`);
}

/** Count a refusal (also one a worker of this page made): html[data-refused-requests] says how many. */
export function noteRefused(origin) {
  refused.push(origin);
  if (typeof document !== "undefined") document.documentElement.dataset.refusedRequests = String(refused.length);
  if (refused.length === 1) console.info(`facecoach: a request to ${origin} was kept from leaving the page`);
}

/** The origins refused so far (one entry per attempt). */
export function refusedOrigins() {
  return [...refused];
}

/** Wrap the page's ways out (once) so that only this site can be reached. `win` is the page's window or a
 * worker's global scope; `onRefused(origin)`, if given, is told of each refusal (a worker tells its page). */
export function keepRequestsOnThisSite(win = globalThis, onRefused = null) {
  if (onRefused) told = onRefused;
  if (win.__facecoachSameOrigin) return;
  win.__facecoachSameOrigin = true;
  const fetch = win.fetch.bind(win);
  win.fetch = (input, init) => {
    const url = input instanceof win.Request ? input.url : input;
    return foreign(url) ? Promise.reject(refuse(url)) : fetch(input, init);
  };
  const open = win.XMLHttpRequest.prototype.open;
  win.XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    if (foreign(url)) throw refuse(url);
    return open.call(this, method, url, ...rest);
  };
  if (win.navigator.sendBeacon) {
    const beacon = win.navigator.sendBeacon.bind(win.navigator);
    win.navigator.sendBeacon = (url, data) => (foreign(url) ? (refuse(url), false) : beacon(url, data));
  }
}
