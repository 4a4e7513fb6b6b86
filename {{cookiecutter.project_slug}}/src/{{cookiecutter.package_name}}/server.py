"""The production server, ``serve``: uvicorn's own command line with this package's app factory
already named, so that the Dockerfile's command is the same for every service baked from the
template (the Dockerfile has no template variables: dependency bots update it).

``serve --host 0.0.0.0 --port 8000`` runs ``uvicorn --factory <package>.main:create_app --host
0.0.0.0 --port 8000``: every uvicorn flag works, and an option not given on the command line is
read from its ``UVICORN_<OPTION>`` variable, as the image's limits are.
"""

import sys

from uvicorn.main import main as uvicorn_command

APP = f"{__package__}.main:create_app"


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    uvicorn_command.main([APP, "--factory", *arguments], prog_name="serve")


if __name__ == "__main__":
    main()
