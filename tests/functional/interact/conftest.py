from tests.functional.interact.world import world

__all__ = ["world"]
