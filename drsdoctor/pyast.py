"""Python's `ast`, one caller at a time.

CPython (3.11 before 3.11.8, 3.12.0) keeps the AST constructor's recursion depth per interpreter, not per
thread: two threads building an AST at once can fail with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905). drsdoctor builds ASTs from several threads (functions' code and roles'
policies are read in parallel), so every `ast.parse` and `ast.literal_eval` of a text goes through here.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

_BUILDING = threading.Lock()


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    with _BUILDING:
        return ast.parse(text, filename=filename)


def literal_eval(text: str) -> Any:
    with _BUILDING:
        tree = ast.parse(text.lstrip(" \t"), mode="eval")
    return ast.literal_eval(tree)  # evaluates the tree: builds no AST
