import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_python(tmp_path):
    """Runs Python code in a fresh interpreter; returns the completed
    process (stdout, stderr, returncode)."""

    def run(code: str, env: dict | None = None, timeout: float = 60):
        script = tmp_path / "program.py"
        script.write_text(code)
        return subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run
