"""docs/contracts.md states the interfaces between packages: every signature there must match the code."""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _stubs() -> list[tuple[str, str, ast.FunctionDef]]:
    """``(module, qualified name, stub)`` for every def in the page's python blocks."""
    out = []
    for block in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        first = block.splitlines()[0]
        assert first.startswith("# module: "), f"a python block of contracts.md names no module: {first!r}"
        module = first.removeprefix("# module: ").strip()
        for node in ast.parse(block).body:
            if isinstance(node, ast.FunctionDef):
                out.append((module, node.name, node))
            elif isinstance(node, ast.ClassDef):
                out += [(module, f"{node.name}.{f.name}", f) for f in node.body if isinstance(f, ast.FunctionDef)]
    return out


STUBS = _stubs()


def _documented(stub: ast.FunctionDef) -> list[tuple[str, str, str | None, str | None]]:
    """``(name, kind, default, annotation)`` per parameter, as the page writes them."""
    args = stub.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [(a.arg, "POSITIONAL_OR_KEYWORD", d, a.annotation) for a, d in zip(positional, defaults)]
    if args.vararg:
        params.append((args.vararg.arg, "VAR_POSITIONAL", None, args.vararg.annotation))
    params += [(a.arg, "KEYWORD_ONLY", d, a.annotation) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        params.append((args.kwarg.arg, "VAR_KEYWORD", None, args.kwarg.annotation))
    return [(n, k, None if d is None else ast.unparse(d), None if a is None else ast.unparse(a))
            for n, k, d, a in params]


def _actual(obj) -> list[tuple[str, str, str | None, str | None]]:
    out = []
    for p in inspect.signature(obj).parameters.values():
        kind = "POSITIONAL_OR_KEYWORD" if p.kind is p.POSITIONAL_ONLY else p.kind.name
        default = None if p.default is p.empty else repr(p.default)
        annotation = None if p.annotation is p.empty else str(p.annotation)
        out.append((p.name, kind, default, annotation))
    return out


def _same_default(doc: str | None, code: str | None) -> bool:
    if doc is None or code is None:
        return doc == code
    try:
        return ast.literal_eval(doc) == ast.literal_eval(code)
    except ValueError:
        return doc == code


def test_the_page_documents_the_main_seams():
    names = {f"{m}:{n}" for m, n, _ in STUBS}
    for must in ("ctreview.scoring:run_scoring", "ctreview.progress:drain", "ctreview.io:as_volume",
                 "ctreview.review:ReviewState.decide", "ctreview.training:iter_train"):
        assert must in names


@pytest.mark.parametrize("module,name,stub", STUBS, ids=[f"{m}:{n}" for m, n, _ in STUBS])
def test_signature_matches_the_code(module, name, stub):
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    documented, actual = _documented(stub), _actual(obj)
    assert [d[:2] for d in documented] == [a[:2] for a in actual], f"{module}.{name}: parameters differ"
    for (pname, _, ddef, dann), (_, _, adef, aann) in zip(documented, actual):
        assert _same_default(ddef, adef), f"{module}.{name}({pname}): default {ddef} on the page, {adef} in code"
        if dann is not None:
            assert dann == aann, f"{module}.{name}({pname}): annotation {dann!r} on the page, {aann!r} in code"
    if stub.returns is not None:
        returned = inspect.signature(obj).return_annotation
        assert ast.unparse(stub.returns) == str(returned), f"{module}.{name}: return type differs"
