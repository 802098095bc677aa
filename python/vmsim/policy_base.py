"""Replacement policies written in Python."""
from __future__ import annotations

from typing import ClassVar, Optional


class Policy:
    """Subclass to prototype a page replacement policy; pass the class wherever a policy name
    goes (:func:`vmsim.policy`, :func:`vmsim.mrc`, a sweep's ``policy`` grid) and it runs through
    the same simulation loop as the built-in policies.

    vmsim builds one instance per cache size, ``cls(frames)``, and keeps track of which pages
    are resident and dirty itself; the policy only hears of references and picks victims:

    - ``on_hit(page, write)``: a resident page was referenced;
    - ``on_miss(page, write)``: a page that is not resident was referenced (before any eviction);
    - ``evict() -> page``: memory is full; return the resident page to evict (a page that is not
      resident raises :class:`vmsim.PolicyError`);
    - ``on_insert(page, write)``: the missing page is now resident.

    ``name`` (default: the class's name) labels the policy's rows and curves.

    Example, FIFO::

        class Fifo(vmsim.Policy):
            def __init__(self, frames):
                super().__init__(frames)
                self.queue = collections.deque()
            def on_insert(self, page, write):
                self.queue.append(page)
            def evict(self):
                return self.queue.popleft()
    """

    name: ClassVar[Optional[str]] = None

    def __init__(self, frames: int) -> None:
        self.frames = frames

    def on_hit(self, page: int, write: bool) -> None:
        """A resident page was referenced."""

    def on_miss(self, page: int, write: bool) -> None:
        """A page that is not resident was referenced."""

    def on_insert(self, page: int, write: bool) -> None:
        """The page just missed is now resident."""

    def evict(self) -> int:
        """Memory is full: the resident page to evict."""
        raise NotImplementedError(f"{type(self).__name__} must define evict()")
