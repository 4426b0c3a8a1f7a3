"""The architecture, kept by a test: who may import whom.

- ``bot/`` never imports ``handlers`` (handlers depend on services, not the reverse):
  the wiring finds the router tree through the ``newsroom.routers`` entry point that
  pyproject.toml declares;
- ``bot/`` imports ``storage`` only in ``bot/app.py``, the wiring: services depend on the
  protocols in ``bot/repositories.py``, so another backend can implement them;
- ``storage/`` never imports ``handlers``, nor the services (only plain data, protocols
  and errors from ``bot``).
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What storage/ may take from bot/: plain data, protocols, errors.
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
    imports = _imports(path)
    assert not [m for m in imports if _is_in(m, "handlers")]
    if path != ROOT / "bot" / "app.py":
        assert not [m for m in imports if _is_in(m, "storage")], "only bot/app.py wires storage"


def test_the_routers_plug_in_through_the_entry_point() -> None:
    from bot.app import ROUTERS_GROUP, load_routers

    [point] = entry_points(group=ROUTERS_GROUP)
    assert point.value == "handlers:setup_routers"
    assert [router.name for router in load_routers()] == ["root"]


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
