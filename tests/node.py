"""The npm packages some tests run (tests/clients/*), installed from their own lock files as a
developer's machine and CI install them: `npm ci`, once, when the package's modules are not
there yet."""

import subprocess
from pathlib import Path

CLIENTS = Path(__file__).resolve().parent / "clients"


def npm(package: Path, *arguments: str, seconds: float = 300, env=None):
    return subprocess.run(
        ["npm", *arguments], cwd=package, capture_output=True, text=True, timeout=seconds, env=env
    )


def installed(package: Path) -> Path:
    """`package`, its locked dependencies installed."""
    if not (package / "node_modules" / ".package-lock.json").exists():
        done = npm(package, "ci", "--no-audit", "--no-fund")
        assert done.returncode == 0, done.stderr
    return package
