"""Coverage-guided fuzzing (atheris/libFuzzer) of the live-coaching wire decoder: any bytes or text a
client can send must decode or raise ``ProtocolError`` — nothing else. Run by ``test_atheris.py`` for a
bounded number of inputs; run longer by hand:

    .venv/bin/python -m tests.fuzz.atheris_protocol -max_total_time=600 CORPUS_DIR
"""

from __future__ import annotations

import contextlib
import json
import sys

import atheris
import numpy  # noqa: F401  (imported before instrumentation: only facecoach's code is instrumented)
import pydantic  # noqa: F401
import pydantic_settings  # noqa: F401

with atheris.instrument_imports(include=["facecoach"]):
    from facecoach.config import LiveSettings
    from facecoach.live.protocol import HEADER, ProtocolError, decode_control, decode_frame

LIMITS = LiveSettings()


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    how = fdp.ConsumeIntInRange(0, 3)
    if how == 0:  # raw bytes as a binary message
        message = fdp.ConsumeBytes(fdp.remaining_bytes())
    elif how == 1:  # a well-formed header (any values) and a fuzzed payload
        header = HEADER.pack(
            fdp.ConsumeIntInRange(0, 3),
            fdp.ConsumeIntInRange(0, 4),
            fdp.ConsumeIntInRange(0, 3),
            fdp.ConsumeIntInRange(0, 2**32 - 1),
            fdp.ConsumeRegularFloat() if fdp.ConsumeBool() else fdp.ConsumeFloat(),
            fdp.ConsumeIntInRange(0, 5000),
            fdp.ConsumeIntInRange(0, 5000),
        )
        message = header + fdp.ConsumeBytes(fdp.remaining_bytes())
    else:  # a text control message (free text, or JSON with fuzzed values)
        if how == 2:
            text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        else:
            keys = ["type", "technique", "mode", "reps", "x"]
            obj = {keys[fdp.ConsumeIntInRange(0, 4)]: fdp.ConsumeUnicodeNoSurrogates(12) for _ in range(3)}
            if fdp.ConsumeBool():
                obj["reps"] = fdp.ConsumeInt(4)
            text = json.dumps(obj)
        with contextlib.suppress(ProtocolError):
            decode_control(text, LIMITS)
        return
    with contextlib.suppress(ProtocolError):
        decode_frame(message, LIMITS)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
