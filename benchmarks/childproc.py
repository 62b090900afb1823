"""What the benchmark scripts share: measuring in a fresh child process of the script itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_child(script: str, args: list[str]) -> dict[str, Any]:
    """Run `script` in a fresh process (so its peak RSS is its own); its last stdout line is a
    JSON result."""
    cmd = [sys.executable, str(Path(script).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-5000:])
        raise SystemExit(f"child failed (exit {proc.returncode}): {' '.join(cmd)}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
