"""The one exception handlers raise for a user's mistake; the core turns it into a ``Problem``."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the user can fix; ``key`` names the catalog sentence that explains it."""

    def __init__(self, key: str, *, show_usage: bool = True, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        self.show_usage = show_usage
