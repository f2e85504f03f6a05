"""Error text shown to people: shared by the web app and the job runner (both show failures), so it sits
outside either package."""

from __future__ import annotations

import re

# An absolute path in a message (POSIX or Windows): a separator not preceded by a word character, a
# dot, a colon or another separator ("mm/px", "1/2" and URLs stay), then at least one path component.
_PATH = re.compile(r"(?<![\w.:/\\])(?:[A-Za-z]:)?(?:[/\\][^\s'\"/\\:]+)+[/\\]?")


def without_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last component: no user-visible error may show where
    the server keeps its files ("cannot identify '/tmp/facecoach-scan-…/photo'" → "… 'photo'")."""
    return _PATH.sub(lambda m: m.group(0).rstrip("/\\").rsplit("/", 1)[-1].rsplit("\\", 1)[-1], text)
