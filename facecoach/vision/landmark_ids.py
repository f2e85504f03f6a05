"""Named MediaPipe Face Landmarker indices, by the PERSON's own side.

The person's left is on the image's right in an unmirrored photo. Checked on real photos
(``skimage.data.astronaut()``: 263, 473 and 291 lie at larger image x than 33, 468 and 61) and against
MediaPipe's canonical face model (person's left has +x there). Tuples run from the inner end (nearest
the midline) outward unless stated; eyelid tuples run from the inner corner to the outer corner.
"""

from __future__ import annotations

# Irises (refined landmarks): centre first, then the four contour points
# (image right, up, image left, down of an upright face).
RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS = (473, 474, 475, 476, 477)
RIGHT_IRIS_CENTER = 468
LEFT_IRIS_CENTER = 473
# Horizontal contour points of each iris (their distance is the visible iris diameter).
RIGHT_IRIS_HORIZONTAL = (469, 471)
LEFT_IRIS_HORIZONTAL = (474, 476)
RIGHT_IRIS_VERTICAL = (470, 472)
LEFT_IRIS_VERTICAL = (475, 477)

# Eye corners.
RIGHT_EYE_OUTER = 33
RIGHT_EYE_INNER = 133
LEFT_EYE_OUTER = 263
LEFT_EYE_INNER = 362
# The four corners together: their mean is the origin of the face frame (vision.geometry, coaching.measures).
EYE_CORNERS = (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER)

# Eyelids: upper and lower lid contour, inner corner side → outer corner side (corners excluded).
RIGHT_EYE_UPPER = (173, 157, 158, 159, 160, 161, 246)
RIGHT_EYE_LOWER = (155, 154, 153, 145, 144, 163, 7)
LEFT_EYE_UPPER = (398, 384, 385, 386, 387, 388, 466)
LEFT_EYE_LOWER = (382, 381, 380, 374, 373, 390, 249)
# Matched upper/lower pairs across the middle of each lid (their gap is the eye opening).
RIGHT_EYE_OPENING_PAIRS = ((158, 153), (159, 145), (160, 144))
LEFT_EYE_OPENING_PAIRS = ((385, 380), (386, 374), (387, 373))

# Brows: upper and lower edge, inner (nearest the midline) → outer (tail).
RIGHT_BROW_UPPER = (107, 66, 105, 63, 70)
RIGHT_BROW_LOWER = (55, 65, 52, 53, 46)
LEFT_BROW_UPPER = (336, 296, 334, 293, 300)
LEFT_BROW_LOWER = (285, 295, 282, 283, 276)
RIGHT_BROW = RIGHT_BROW_UPPER + RIGHT_BROW_LOWER
LEFT_BROW = LEFT_BROW_UPPER + LEFT_BROW_LOWER

# Mouth.
MOUTH_RIGHT_CORNER = 61
MOUTH_LEFT_CORNER = 291
# Outer and inner lip corner of each side (their mean jitters less than one point).
MOUTH_RIGHT_CORNER_POINTS = (61, 78)
MOUTH_LEFT_CORNER_POINTS = (291, 308)
UPPER_LIP_TOP = 0
UPPER_LIP_INNER = 13
LOWER_LIP_INNER = 14
LOWER_LIP_BOTTOM = 17

# Midline (top of the forehead → chin); each is its own mirror partner.
FOREHEAD = 10
GLABELLA = 9
NOSE_BRIDGE = 168
NOSE_TIP = 1
SUBNASALE = 2
CHIN = 152
NOSE_TIP_POINTS = (1, 2)  # tip and base (subnasale) of the nose
CHIN_POINTS = (152, 175, 199, 200)  # menton and the midline points just above it
MIDLINE = (
    10,
    151,
    9,
    8,
    168,
    6,
    197,
    195,
    5,
    4,
    1,
    19,
    94,
    2,
    164,
    0,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    200,
    199,
    175,
    152,
)

# Face contour ("silhouette"), from the top of the forehead down each side to the chin.
FACE_OVAL_LEFT = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
)
FACE_OVAL_RIGHT = (10, 109, 67, 103, 54, 21, 162, 127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152)
# Jaw contour of the lower face (below the cheekbones, from the angle of the jaw toward the chin).
JAW_CONTOUR_LEFT = (323, 361, 288, 397, 365, 379, 378)
JAW_CONTOUR_RIGHT = (93, 132, 58, 172, 136, 150, 149)

# Cheeks (the malar prominence) and temples.
LEFT_CHEEK = 425
RIGHT_CHEEK = 205
LEFT_CHEEKBONE = 352
RIGHT_CHEEKBONE = 123

# Nose alae (wings).
LEFT_NOSE_WING = 294
RIGHT_NOSE_WING = 64
