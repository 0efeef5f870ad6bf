"""Daphne the way Parley used to deploy it, for comparison: N processes on one socket."""

import socket
import subprocess
import sys

FLAGS = ["--websocket_timeout", "-1", "--websocket-max-message-size", "65536"]


def main(port: int, workers: int) -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    command = [sys.executable, "-m", "daphne", *FLAGS, "--fd", str(listener.fileno())]
    processes = [
        subprocess.Popen([*command, "config.asgi:application"], pass_fds=[listener.fileno()])
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
