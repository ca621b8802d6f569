"""`patronage app [SCENARIO]`: serve the interactive page (Solara) on this machine.

Solara is an optional extra (`pip install -e ".[app]"`); without it the command says so on
one line. The scenario is checked before the server starts, so a bad file fails here with
the loader's message and exit status 2, as every other command does.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

from patronage.cli.options import whole_number
from patronage.errors import InputError
from patronage.scenario.loader import load

DEFAULT_PORT = 8765
port_number = whole_number(0)


def register(sub) -> None:
    """Add the `app` subcommand to the parser."""
    p = sub.add_parser("app", help="serve the interactive page (needs the [app] extra)")
    p.add_argument(
        "scenario", nargs="?", help="scenario file (default: the bundled syria_withdrawal)"
    )
    p.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.set_defaults(handler=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    """`patronage app`: serve the interactive page for a scenario."""
    if args.scenario:
        load(args.scenario)  # a bad file fails here, with the loader's one-line message
    try:
        import solara  # noqa: F401
    except ImportError:
        raise InputError(
            'needs the [app] extra: pip install -e ".[app]"', source="patronage app"
        ) from None
    if args.scenario:
        os.environ["PATRONAGE_APP_SCENARIO"] = str(Path(args.scenario).resolve())
    port = args.port or free_port(args.host)
    from patronage.app import serve

    print(f"patronage app: serving on http://{args.host}:{port}/ (Ctrl-C stops)", flush=True)
    serve(args.host, port)
    return 0


def free_port(host: str) -> int:
    """A free TCP port on `host`, so the page does not collide with another server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
