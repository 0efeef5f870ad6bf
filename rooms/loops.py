"""Process-wide helpers that belong to one event loop (test runs start several)."""

import asyncio
from collections.abc import Callable


def per_loop[T](make: Callable[[], T]) -> Callable[[], T]:
    """A getter for one `make()` per running event loop, made on first use."""
    made: dict[asyncio.AbstractEventLoop, T] = {}

    def get() -> T:
        loop = asyncio.get_running_loop()
        if loop not in made:
            for closed in [old for old in made if old.is_closed()]:
                del made[closed]
            made[loop] = make()
        return made[loop]

    return get
