"""``python -m cb_core ...``: every command's parser in one place (data, model, products, users, batch,
bench). The top of the engine: it may import any package; nothing in the engine imports it."""
from .commands import build_parser, main

__all__ = ["build_parser", "main"]
