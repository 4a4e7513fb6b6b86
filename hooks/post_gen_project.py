"""Finish a bake: write the developer's ``.env`` with freshly generated secrets.

Importable for unit tests: the only Jinja is inside the string literal that ``main`` parses.
Offline and deterministic apart from the secrets themselves.
"""

import secrets
from pathlib import Path

# Variables of .env.example whose value is a secret generated per bake.
GENERATED_SECRETS = ("JWT_SECRET",)


def env_with_secrets(example: str, token_factory=lambda: secrets.token_urlsafe(64)) -> str:
    """Return *example* (the text of .env.example) with every generated secret filled in."""
    lines = []
    for line in example.splitlines():
        name, separator, _ = line.partition("=")
        if separator and name.strip() in GENERATED_SECRETS:
            line = f"{name.strip()}={token_factory()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_env_file(project_dir: Path) -> None:
    """Create ``.env`` from ``.env.example``, readable by its owner only."""
    example = (project_dir / ".env.example").read_text(encoding="utf-8")
    env_file = project_dir / ".env"
    env_file.write_text(env_with_secrets(example), encoding="utf-8")
    env_file.chmod(0o600)


def main() -> None:
    write_env_file(Path.cwd())


if __name__ == "__main__":
    main()
