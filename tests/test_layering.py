"""The import layering of facecoach (docs/architecture.md), read from every module's AST: each package
imports only the packages below it, and only the web and the CLI import the web framework. A package
without a rule here fails the test, so a new one gets a place in the layering before it ships."""

from __future__ import annotations

import ast
from pathlib import Path

import facecoach

ROOT = Path(facecoach.__file__).parent
#: The foundations: plain modules every package may use, themselves importing nothing of facecoach.
BASE = {"config", "yamlfile", "errors"}
DOMAIN = {"knowledge", "vision", "planning", "coaching", "members"}
#: What each package may import from facecoach (besides itself).
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "yamlfile": set(),
    "errors": set(),
    "knowledge": {"yamlfile", "errors"},
    "vision": BASE,
    "planning": BASE | {"knowledge"},
    "coaching": BASE | {"knowledge", "vision"},
    "members": BASE | {"knowledge", "planning", "coaching"},
    # Built on the domain, never on the web (``facecoach worker`` and the tests run them without it).
    "studio": BASE | DOMAIN,
    "guard": BASE | DOMAIN,
    "progress": BASE | DOMAIN,
    "live": BASE | DOMAIN,
    "jobs": BASE | DOMAIN | {"studio"},
    "web": BASE | DOMAIN | {"studio", "guard", "progress", "live", "jobs"},
    "cli": BASE | DOMAIN | {"studio", "guard", "progress", "live", "jobs", "web"},
}
#: Web frameworks: only the web app and the command line (which serves it) import them.
FRAMEWORKS = {"fastapi", "starlette", "uvicorn"}
FRAMEWORK_USERS = {"web", "cli"}


def imports_of(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (``import a.b``, ``from a.b import c``), anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layering_problems(root: Path) -> list[str]:
    """Every import in the tree at ``root`` that breaks the rules above, as readable lines."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == root:
            continue
        part = path.relative_to(root).parts[0].removesuffix(".py")
        if part not in ALLOWED:
            problems.append(f"facecoach.{part} has no layering rule (tests/test_layering.py)")
            continue
        for name in imports_of(path):
            top, _, rest = name.partition(".")
            if top == "facecoach" and rest:
                target = rest.split(".")[0]
                if target != part and target not in ALLOWED[part]:
                    problems.append(f"{path.relative_to(root.parent)} imports {name}")
            elif top in FRAMEWORKS and part not in FRAMEWORK_USERS:
                problems.append(f"{path.relative_to(root.parent)} imports {name}")
    return sorted(set(problems))


def test_every_package_imports_only_what_lies_below_it() -> None:
    assert layering_problems(ROOT) == []


def test_the_check_sees_a_broken_layer(tmp_path: Path) -> None:
    tree = tmp_path / "facecoach"
    (tree / "vision").mkdir(parents=True)
    (tree / "jobs").mkdir()
    (tree / "vision" / "scan.py").write_text("from facecoach.coaching import x\nimport fastapi\n")
    lazy = "def f():\n    from facecoach.web.security import without_paths\n"  # inside a function too
    (tree / "jobs" / "runner.py").write_text(lazy)
    (tree / "gadgets.py").write_text("")
    assert layering_problems(tree) == [
        "facecoach.gadgets has no layering rule (tests/test_layering.py)",
        "facecoach/jobs/runner.py imports facecoach.web.security",
        "facecoach/vision/scan.py imports facecoach.coaching",
        "facecoach/vision/scan.py imports fastapi",
    ]
