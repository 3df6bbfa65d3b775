"""Safe YAML loading that refuses duplicate keys (PyYAML silently keeps the last one)."""
from __future__ import annotations

from typing import Any

import yaml


class DuplicateKeyError(ValueError):
    def __init__(self, key: Any, line: int) -> None:
        self.key, self.line = key, line
        super().__init__(f"duplicate key {key!r} (line {line})")


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKeyError(key, key_node.start_mark.line + 1)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def safe_load_strict(text: str) -> Any:
    """`yaml.safe_load` that raises DuplicateKeyError on a repeated key."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
