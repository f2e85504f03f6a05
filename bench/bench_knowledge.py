"""Benchmark of the knowledge base: load time and the look-up's speed and hit rate.

Run: ``.venv/bin/python bench/bench_knowledge.py [--repeat 5]``

Prints (with the load average: the machine may be shared):

* the time to read and validate the four YAML files (median of ``--repeat`` cold loads);
* the look-up's time per question, cold (first question after a load) and warm (median over every
  tool/claim name and alias, plus a set of typo'd and free-worded questions);
* the hit rate: how many names and aliases find their own entry, and how many of the typo'd questions
  find the intended one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from facecoach.knowledge import check
from facecoach.knowledge.library import DATA_DIR, load_library

# Questions people type, with the entry they mean: typos, run-together words, extra words.
TYPOS = {
    "jaw excerciser": "jawline-exerciser",
    "jawline exersizer": "jawline-exerciser",
    "guashaa": "gua-sha",
    "gua shaw": "gua-sha",
    "jade rolller": "jade-roller",
    "microcurent facial": "microcurrent",
    "radiofrequncy": "radiofrequency",
    "facegym": "face-gym-salon",
    "is face gym worth it": "face-gym-salon",
    "ems mask": "ems",
    "hyaluronic serum": "hyaluronic-acid",
    "does gua sha remove toxins": "gua-sha-removes-toxins",
    "will face exercises give me wrinkles": "exercise-causes-wrinkles",
    "get rid of double chin with exercises": "spot-reduce-face-fat",
    "botox": "botulinum-toxin",
    "face taping": "face-taping",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    loads = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        library = load_library(DATA_DIR)  # a data directory: not the cached library
        loads.append(time.perf_counter() - t0)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"library: {len(library.muscles)} muscle entries, {len(library.techniques)} techniques, "
        f"{len(library.tools)} tools, {len(library.claims)} claims"
    )
    print(f"load + validate: median {statistics.median(loads) * 1000:.0f} ms over {args.repeat} loads")

    t0 = time.perf_counter()
    check("jaw exerciser", library)
    print(f"check, first question after a load: {(time.perf_counter() - t0) * 1000:.0f} ms")

    phrases = [(t.id, p) for t in library.tools.values() for p in (t.name, *t.aliases)]
    phrases += [(c.id, p) for c in library.claims.values() for p in (c.claim, *c.aliases)]
    times, own = [], 0
    for ident, phrase in phrases:
        t0 = time.perf_counter()
        result = check(phrase, library)
        times.append(time.perf_counter() - t0)
        own += result.match == ident
    hits = 0
    for question, ident in TYPOS.items():
        t0 = time.perf_counter()
        result = check(question, library)
        times.append(time.perf_counter() - t0)
        hits += result.match == ident
        if result.match != ident:
            print(f"  miss: {question!r} → {result.match} (wanted {ident})")
    times.sort()
    print(
        f"check, warm: median {statistics.median(times) * 1000:.1f} ms, "
        f"95th percentile {times[int(0.95 * (len(times) - 1))] * 1000:.1f} ms over {len(times)} questions"
    )
    print(f"names and aliases finding their own entry: {own}/{len(phrases)}")
    print(f"typo'd and free-worded questions finding the intended entry: {hits}/{len(TYPOS)}")


if __name__ == "__main__":
    main()
