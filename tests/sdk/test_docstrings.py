"""Every public name of the SDK has a docstring: the SDK reference is built from them.

griffe reads the docstrings from the source, as mkdocstrings does when it builds the
reference, so it also sees those under attrs fields, enum members and attributes, which
``inspect`` cannot. Each test fails naming every object that lacks what it checks.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import griffe
import pytest

import ocrchat
import ocrchat.models
import ocrchat.webhooks

ROOT = Path(__file__).resolve().parents[2]

REACHED = [
    "ocrchat._response.ClientWithRawResponse",  # what Client.with_raw_response is
    "ocrchat._response.AsyncClientWithRawResponse",
    "ocrchat._jupyter.JobView",  # what Job.show() returns
]
"""Public classes that users meet without their names being exported."""

ELSEWHERE: set[str] = set()
"""Public members still without a docstring, in modules outside this test's first change:
``Client.base_url`` comes from ``ClientBase`` in ``_core.py``. Once one has a docstring,
the test fails until its entry is dropped here."""


def _unasync_rules() -> list[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rules: list[tuple[str, str]] = module.RULES
    return rules


@pytest.fixture(scope="module")
def package() -> griffe.Module:
    loaded = griffe.load(
        "ocrchat",
        search_paths=[ROOT / "src"],
        allow_inspection=False,  # the source, as the docs build reads it
        resolve_aliases=True,
    )
    assert isinstance(loaded, griffe.Module)
    return loaded


def _target(obj: griffe.Object | griffe.Alias) -> griffe.Object:
    return obj.final_target if isinstance(obj, griffe.Alias) else obj


def _documented(obj: griffe.Object | griffe.Alias) -> bool:
    docstring = _target(obj).docstring
    return docstring is not None and bool(docstring.value.strip())


def _public_objects(package: griffe.Module) -> Iterator[tuple[str, griffe.Object]]:
    """Every exported name of ``ocrchat`` and ``ocrchat.webhooks`` (and of ``ocrchat.models``,
    which holds the models that only the webhooks return), the classes in ``REACHED``, and,
    in each class, every public member: its own ones once, an inherited one under each
    class that inherits it."""
    roots: list[tuple[str, griffe.Object | griffe.Alias]] = []
    for module, names in (
        (package, ocrchat.__all__),
        (package["webhooks"], ocrchat.webhooks.__all__),
        (package["models"], ocrchat.models.__all__),
    ):
        roots.extend((f"{module.path}.{name}", module[name]) for name in names)
    roots.extend((path, package[path.removeprefix("ocrchat.")]) for path in REACHED)
    seen: set[str] = set()
    for shown, obj in roots:
        if shown.rpartition(".")[2].startswith("_"):  # __version__
            continue
        target = _target(obj)
        if target.path in seen:
            continue
        seen.add(target.path)
        yield shown, target
        if not target.is_class:
            continue
        for name, member in target.all_members.items():
            if name.startswith("_"):
                continue
            member_target = _target(member)
            if member_target.path in seen and not member.inherited:
                continue
            seen.add(member_target.path)
            yield f"{shown}.{name}", member_target


def test_the_modules_have_docstrings(package: griffe.Module) -> None:
    modules = [package, package["models"], package["webhooks"]]
    assert [module.path for module in modules if not _documented(module)] == []


def test_every_public_object_has_a_docstring(package: griffe.Module) -> None:
    """Classes, functions, methods, properties, enum members, attributes and type aliases,
    of every exported name and every public class's members."""
    walked = list(_public_objects(package))
    missing = [shown for shown, obj in walked if not _documented(obj) and obj.path not in ELSEWHERE]
    assert missing == [], "no docstring: " + ", ".join(missing)
    stale = {obj.path for _, obj in walked if _documented(obj)} & ELSEWHERE
    assert stale == set(), "documented now, drop from ELSEWHERE: " + ", ".join(stale)


def test_every_docstring_parses_cleanly(
    package: griffe.Module, caplog: pytest.LogCaptureFixture
) -> None:
    """Read as Google style, as mkdocstrings renders them: no section griffe cannot read,
    no ``Args:`` entry naming a parameter the signature lacks."""
    with caplog.at_level(logging.WARNING, logger="griffe"):
        for _, obj in _public_objects(package):
            if obj.docstring is not None:
                obj.docstring.parse("google")
    assert [record.getMessage() for record in caplog.records] == []


def _attrs_classes() -> Iterator[type]:
    for name in ocrchat.models.__all__:
        value = getattr(ocrchat.models, name)
        if isinstance(value, type) and attrs.has(value):
            yield value


def test_every_model_field_has_a_docstring(package: griffe.Module) -> None:
    """attrs' own list of each model's fields, so that no field escapes the walk above."""
    models = package["models"]
    missing = [
        f"{cls.__name__}.{field.name}"
        for cls in _attrs_classes()
        for field in attrs.fields(cls)
        if field.name not in models[cls.__name__].members
        or not _documented(models[cls.__name__][field.name])
    ]
    assert missing == [], "no docstring: " + ", ".join(missing)


def _client_methods(package: griffe.Module, client: str) -> dict[str, griffe.Function]:
    cls = _target(package[client])
    return {
        name: member
        for name, member in cls.members.items()
        if not name.startswith("_") and isinstance(member, griffe.Function)
    }


@pytest.mark.parametrize("client", ["AsyncClient", "Client"])
def test_client_methods_document_their_arguments_returns_and_errors(
    package: griffe.Module, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Google style, as mkdocstrings renders it: ``Args:`` naming every parameter and no
    other, ``Returns:`` (``Yields:`` for ``jobs``) and ``Raises:`` for each method that
    makes a request, and nothing griffe warns about while parsing them."""
    problems = []
    with caplog.at_level(logging.WARNING, logger="griffe"):
        for name, method in _client_methods(package, client).items():
            assert method.docstring is not None, f"{client}.{name} has no docstring"
            parsed = method.docstring.parse("google")
            sections = {section.kind.value: section for section in parsed}
            parameters = [p.name for p in method.parameters if p.name != "self"]
            documented = [p.name for p in getattr(sections.get("parameters"), "value", [])]
            if documented != parameters:
                problems.append(f"{name}: Args {documented}, signature {parameters}")
            if method.returns is None or str(method.returns) == "None":
                continue
            answer = "yields" if name == "jobs" else "returns"
            for kind in (answer, "raises"):
                if kind not in sections:
                    problems.append(f"{name}: no {kind.title()} section")
    problems += [record.getMessage() for record in caplog.records]
    assert problems == []


def _unasynced(text: str) -> str:
    for old, new in _unasync_rules():
        text = text.replace(old, new)
    return text


def _docstrings(cls: type) -> dict[str, str | None]:
    found = {"": inspect.getdoc(cls)}
    for name, value in vars(cls).items():
        if not name.startswith("_") or name == "__init__":
            found[name] = inspect.getdoc(value)
    return found


def test_the_sync_client_has_the_async_clients_docstrings() -> None:
    """As ``scripts/unasync.py`` rewrites them, and then with no word of async left, so
    a replacement cannot leave the sync client's documentation garbled."""
    sync = _docstrings(ocrchat.Client)
    expected = {
        _unasynced(name): _unasynced(doc) if doc else doc
        for name, doc in _docstrings(ocrchat.AsyncClient).items()
    }
    assert sync == expected
    leftover = re.compile(r"\b(async|await|asyncio|aclose)\b", re.IGNORECASE)
    garbled = [name for name, doc in sync.items() if doc and leftover.search(doc)]
    assert garbled == []


def test_the_raw_response_namespaces_are_documented_alike(package: griffe.Module) -> None:
    """``Client.with_raw_response`` and ``AsyncClient.with_raw_response`` are written by
    hand, side by side: their docstrings say the same, client for client."""
    sync, async_ = (package[path.removeprefix("ocrchat.")] for path in REACHED[:2])

    def docs(cls: griffe.Object | griffe.Alias, rewrite: Callable[[str], str]) -> dict[str, Any]:
        return {
            name: rewrite(member.docstring.value) if member.docstring else None
            for name, member in _target(cls).all_members.items()
        }

    assert docs(sync, str) == docs(async_, _unasynced)
