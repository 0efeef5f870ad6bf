"""Serve the minimal project with Parley's own uvicorn command (manage.py serve's flags).

python benchmarks/minimal_django/serve.py --port 8001 --workers 2
"""

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from rooms.management.commands.serve import server_command  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    where = ["--host", args.host, "--port", str(args.port), "--workers", str(args.workers)]
    command = server_command(*where, application="project.asgi:application")
    # The project from here, and Parley (for the server's log formatter) from the root.
    os.chdir(HERE)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT)])
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.execv(command[0], command)  # noqa: S606


if __name__ == "__main__":
    main()
