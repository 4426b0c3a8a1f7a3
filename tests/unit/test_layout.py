"""The architecture, kept by a test: who may import whom.

- ``bot/`` imports ``handlers`` and ``storage`` only in ``bot/app.py``, the composition
  root: services depend on the protocols in ``bot/repositories.py``, so another backend
  can implement them, and handlers depend on services, not the reverse;
- ``storage/`` never imports ``handlers``, nor the services (only plain data, protocols
  and errors from ``bot``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from aiogram import Dispatcher, Router

ROOT = Path(__file__).resolve().parents[2]
# What storage/ may take from bot/: plain data, protocols, errors.
COMPOSITION_ROOT = ROOT / "bot" / "app.py"
STORAGE_MAY_USE = {"bot.models", "bot.repositories", "bot.errors", "bot.settings"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _is_in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("path", _modules("bot"), ids=lambda p: str(p.relative_to(ROOT)))
def test_bot_does_not_import_handlers_or_storage(path: Path) -> None:
    if path == COMPOSITION_ROOT:
        return
    imports = _imports(path)
    assert not [m for m in imports if _is_in(m, "handlers")], "only bot/app.py wires handlers"
    assert not [m for m in imports if _is_in(m, "storage")], "only bot/app.py wires storage"


def _handlers(router: Router) -> int:
    own = sum(len(observer.handlers) for observer in router.observers.values())
    return own + sum(_handlers(sub) for sub in router.sub_routers)


def test_the_router_tree_attaches_to_any_number_of_dispatchers() -> None:
    """The handler modules' routers are templates: every dispatcher gets its own copy."""
    from handlers import router_tree

    trees = [router_tree() for _ in range(3)]
    for tree in trees:
        Dispatcher().include_router(tree)
    assert [tree.name for tree in trees] == ["root"] * 3
    assert len({_handlers(tree) for tree in trees}) == 1
    assert _handlers(trees[0]) > 50


@pytest.mark.parametrize("path", _modules("storage"), ids=lambda p: str(p.relative_to(ROOT)))
def test_storage_uses_only_data_protocols_and_errors_of_bot(path: Path) -> None:
    imports = _imports(path)
    assert not [m for m in imports if _is_in(m, "handlers")]
    services = [m for m in imports if _is_in(m, "bot") and m not in STORAGE_MAY_USE]
    assert services == []


def test_the_contract_sees_real_imports() -> None:
    """The checks above would pass vacuously if the parser saw nothing."""
    assert "storage" in _imports(ROOT / "bot" / "app.py")
    assert "bot.repositories" in _imports(ROOT / "bot" / "articles" / "publishing.py")
    assert "handlers" in _imports(ROOT / "bot" / "app.py")
