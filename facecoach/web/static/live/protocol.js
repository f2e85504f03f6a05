// The live-coaching wire format, browser side. Mirror of facecoach/live/protocol.py; the layout is
// documented in docs/live-protocol.md. Every multi-byte field is little-endian.

export const VERSION = 1;
export const HEADER_BYTES = 20;
export const N_POINTS = 478;
export const KIND = Object.freeze({ LANDMARKS: 1, NO_FACE: 2, JPEG: 3 });
export const FLAG_CREASE = 1;
export const FLAG_HANDS = 2; // the hands block follows the landmark payload
export const HAND_SLOTS = 2;
export const HAND_SLOT_FLOATS = 2 + 21 * 3; // score, handedness code (1 Left, 2 Right), 21 × (x, y, z)
export const HAND_CODES = Object.freeze({ Left: 1, Right: 2 });

// MediaPipe Face Landmarker's blendshape categories in the model's output order.
export const BLENDSHAPE_NAMES = Object.freeze([
  "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
  "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft",
  "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
  "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight",
  "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight",
  "mouthFrownLeft", "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft",
  "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
  "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft",
  "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
  "noseSneerLeft", "noseSneerRight",
]);
export const N_BLENDSHAPES = BLENDSHAPE_NAMES.length;
export const LANDMARK_MESSAGE_BYTES = HEADER_BYTES + (N_POINTS * 3 + N_BLENDSHAPES + 1) * 4;
export const HANDS_MESSAGE_BYTES = LANDMARK_MESSAGE_BYTES + HAND_SLOTS * HAND_SLOT_FLOATS * 4;

function writeHeader(view, kind, flags, seq, timestampMs, width, height) {
  view.setUint8(0, VERSION);
  view.setUint8(1, kind);
  view.setUint16(2, flags, true);
  view.setUint32(4, seq >>> 0, true);
  view.setFloat64(8, timestampMs, true);
  view.setUint16(16, width, true);
  view.setUint16(18, height, true);
}

/**
 * One landmark frame. `pointsPx` is a Float32Array/Array of 478*3 values (x, y in pixels of the frame,
 * z = MediaPipe's z times the width, as on the Python side); `categories` MediaPipe's blendshape
 * categories (matched by name, so their order does not matter); `crease` a number or null; `hands`
 * null/undefined (not looked for in this frame) or up to two {score, label, points (63 px values)} —
 * an empty array when the page looked and saw none.
 */
export function encodeLandmarks(seq, timestampMs, width, height, pointsPx, categories, crease, hands) {
  const withHands = Array.isArray(hands);
  const buf = new ArrayBuffer(withHands ? HANDS_MESSAGE_BYTES : LANDMARK_MESSAGE_BYTES);
  const view = new DataView(buf);
  const hasCrease = crease !== null && crease !== undefined && Number.isFinite(crease);
  const flags = (hasCrease ? FLAG_CREASE : 0) | (withHands ? FLAG_HANDS : 0);
  writeHeader(view, KIND.LANDMARKS, flags, seq, timestampMs, width, height);
  let off = HEADER_BYTES;
  for (let i = 0; i < N_POINTS * 3; i++, off += 4) view.setFloat32(off, pointsPx[i], true);
  const byName = new Map();
  for (const c of categories || []) byName.set(c.categoryName, c.score);
  for (const name of BLENDSHAPE_NAMES) {
    const s = byName.get(name);
    view.setFloat32(off, s === undefined ? 0 : Math.min(1, Math.max(0, s)), true);
    off += 4;
  }
  view.setFloat32(off, hasCrease ? crease : 0, true);
  off += 4;
  if (withHands) {
    for (let slot = 0; slot < HAND_SLOTS; slot++, off += HAND_SLOT_FLOATS * 4) {
      const hand = hands[slot];
      if (!hand) continue; // an empty slot stays all zeros
      view.setFloat32(off, hand.score, true);
      view.setFloat32(off + 4, HAND_CODES[hand.label] || HAND_CODES.Right, true);
      for (let i = 0; i < 21 * 3; i++) view.setFloat32(off + 8 + 4 * i, hand.points[i], true);
    }
  }
  return buf;
}

export function encodeNoFace(seq, timestampMs, width, height) {
  const buf = new ArrayBuffer(HEADER_BYTES);
  writeHeader(new DataView(buf), KIND.NO_FACE, 0, seq, timestampMs, width, height);
  return buf;
}

/** `jpeg` is an ArrayBuffer with the encoded picture. */
export function encodeJpeg(seq, timestampMs, width, height, jpeg) {
  const out = new Uint8Array(HEADER_BYTES + jpeg.byteLength);
  writeHeader(new DataView(out.buffer), KIND.JPEG, 0, seq, timestampMs, width, height);
  out.set(new Uint8Array(jpeg), HEADER_BYTES);
  return out.buffer;
}
