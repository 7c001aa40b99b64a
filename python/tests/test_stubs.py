"""The type stubs name exactly what the native module has."""

import ast
from pathlib import Path

import neardedup._neardedup as native

STUBS = Path(__file__).resolve().parents[1] / "neardedup" / "_neardedup.pyi"


def stubbed():
    tree = ast.parse(STUBS.read_text())
    names = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__")
            }
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = set()
        elif isinstance(node, ast.AnnAssign) and node.target.id in ("OPTIONS", "__version__"):
            names[node.target.id] = set()
    return names


def test_every_public_name_and_method_is_stubbed_and_nothing_else():
    stubs = stubbed()
    public = {name for name in dir(native) if not name.startswith("_")} | {"__version__"}
    assert set(stubs) == public
    for name, methods in stubs.items():
        if isinstance(getattr(native, name), type):
            real = {m for m in dir(getattr(native, name)) if not m.startswith("__")}
            assert methods == real, name
