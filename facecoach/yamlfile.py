"""The one way facecoach reads YAML: every data file (knowledge, planning, coaching, plans, scan texts)
goes through :func:`load_yaml`.

Safe (plain data, never arbitrary objects) and strict about one thing plain YAML gets wrong for content:
a key given twice in one mapping, which YAML silently resolves by keeping the last, so an author's edit
could vanish without a word. Such a file is refused with the line and column of the second key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader is ~10× faster than the pure-Python one; both are "safe" (no arbitrary objects).
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[misc]
    """Safe loader that refuses a key given twice in one mapping (YAML would silently keep the last)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice in one entry", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML text into plain data; raises ``yaml.YAMLError`` (also for a key given twice)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def read_yaml(path: Path) -> Any:
    """:func:`load_yaml` of a UTF-8 file; raises ``OSError``, ``UnicodeDecodeError`` or ``yaml.YAMLError``."""
    return load_yaml(path.read_text(encoding="utf-8"))
