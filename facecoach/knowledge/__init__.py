"""Knowledge base: muscles, techniques, tools and treatments, claims — data files validated on load."""

from facecoach.knowledge.library import (
    KnowledgeError,
    Library,
    load_library,
    validate_claim,
    validate_technique,
)
from facecoach.knowledge.lookup import CheckResult, Closest, check

__all__ = [
    "CheckResult",
    "Closest",
    "KnowledgeError",
    "Library",
    "check",
    "load_library",
    "validate_claim",
    "validate_technique",
]
