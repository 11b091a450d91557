"""Helpers of the artifacts suite (spec/11 §10): paths, the key table of
`tokmesh-server --config-reference`, env names, YAML key flattening and process runs.

Environment: TOKMESH_SERVER_BIN (default .build/debug/tokmesh-server from the repository
root); tokmesh-cli is taken from the same directory.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SAMPLES = ("minimal", "https", "redis-tls", "cluster", "container")

# Not keys, and ignored by the server (spec/08 §2).
RESERVED_ENV = frozenset({
    "TOKMESH_SERVER_CONFIG_FILE",
    "TOKMESH_TARGET", "TOKMESH_API_KEY", "TOKMESH_OUTPUT", "TOKMESH_CLI_CONFIG",
    "TOKMESH_TIMEOUT", "TOKMESH_TLS_CA", "TOKMESH_TLS_CERT", "TOKMESH_TLS_KEY",
})

# TOKMESH_-prefixed names that are not environment variables: the backup file magic (spec/02 §5).
NOT_ENV = frozenset({"TOKMESH_BAK_V1"})


def server_bin() -> Path:
    p = Path(os.environ.get("TOKMESH_SERVER_BIN", ".build/debug/tokmesh-server"))
    if not p.is_absolute():
        p = REPO / p
    return p


def cli_bin() -> Path:
    return server_bin().parent / "tokmesh-cli"


def run(cmd, *, check=False, timeout=60, env=None, cwd=None, input=""):
    """Runs a command (text, both outputs captured, stdin empty unless `input`); with `check`,
    a non-zero exit raises AssertionError showing both outputs."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, errors="replace",
                       timeout=timeout, env=env, cwd=cwd, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def env_name(key: str) -> str:
    """spec/08 §2: TOKMESH_ + the key upper-cased with dots as underscores."""
    return "TOKMESH_" + key.upper().replace(".", "_")


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any TOKMESH_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKMESH_")}
    env.update(extra)
    return env


_ROW = re.compile(r"^\|\s*`([a-z0-9_.]+)`\s*\|[^|]*\|[^|]*\|\s*`(TOKMESH_[A-Z0-9_]+)`\s*\|")


@functools.lru_cache(maxsize=None)
def config_reference() -> dict[str, str]:
    """key -> env name, from `tokmesh-server --config-reference`."""
    out = run([server_bin(), "--config-reference"], check=True).stdout
    table = {}
    for line in out.splitlines():
        m = _ROW.match(line)
        if m:
            table[m.group(1)] = m.group(2)
    assert len(table) > 50, f"--config-reference printed no key table:\n{out[:2000]}"
    return table


def flatten_keys(doc, prefix: str = "") -> list[str]:
    """Dotted keys of a configuration mapping; a list or scalar ends a key."""
    keys = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                keys.extend(flatten_keys(v, path))
            else:
                keys.append(path)
    return keys


def tree_state(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, mode, size and mtime (for "nothing was created or
    changed" assertions)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            state[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return state


def git_ls_files(untracked: bool = False) -> list[str]:
    """`git ls-files`; with `untracked`, also the new files git would add (not ignored)."""
    extra = ["--others", "--exclude-standard"] if untracked else []
    return run(["git", "-C", REPO, "ls-files", "-z", "--cached", *extra], check=True).stdout.split("\0")[:-1]
