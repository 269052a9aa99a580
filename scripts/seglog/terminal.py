"""How every seglog command reports an error: one line on stderr, `error: …`, with secrets
masked (redact) and the message shown as text, never read as rich markup, then the exit code
(2: the input was refused before any work; 1: the work failed)."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from .redact import redact


def print_error(message: object) -> None:
    """`error: message` on stderr, secrets masked."""
    line = Text.assemble(("error:", "bold red"), " ", redact(str(message)))
    Console(stderr=True, soft_wrap=True).print(line, highlight=False)


def fail(message: object, code: int = 2) -> NoReturn:
    """print_error(message), then exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)
