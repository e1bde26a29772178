"""Reading and checking IR in the project's dialects (task, device,
looppar) and the upstream ones, from Python."""

from __future__ import annotations

from dataclasses import dataclass

from parla import _parla


@dataclass(frozen=True)
class Diagnostic:
    """One MLIR diagnostic: severity, position (when known) and message."""

    severity: str
    file: str | None
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.line is not None else ""
        return f"{where}{self.severity}: {self.message}"


class IRError(ValueError):
    """IR text that does not parse or verify; `diagnostics` says why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics) or "invalid IR")


def verify(text: str, source_name: str = "<string>") -> str:
    """Parses and verifies `text`; returns it printed back in MLIR's form.

    Raises IRError naming each problem with its file:line:col."""
    if not isinstance(text, str):
        raise TypeError(f"verify() expects IR text (str), got {type(text).__name__}")
    try:
        return _parla.verify_ir(text, source_name)
    except _parla.IRError as error:
        _, diagnostics = error.args
        raise IRError([Diagnostic(*d) for d in diagnostics]) from None
