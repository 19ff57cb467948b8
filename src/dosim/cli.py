"""The ``dosim`` command: ``dosim dev``, ``dosim new``, ``dosim migrate`` and ``dosim run``.

```sh
dosim dev [PATH] [--host 127.0.0.1] [--port 8787] [--persist-to DIR | --in-memory]
dosim new NAME [--template T]
dosim migrate --check [PATH]
dosim run FILE [ARG ...]
```

``dosim dev`` needs the ``dev`` extra (``pip install 'dosim[dev]'``); the other commands
use only the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from .config import ConfigError, load_config
from .dev.ports import PortUnavailable, check_port
from .dev.runner import run_file
from .dev.templates import (
    DEFAULT_TEMPLATE,
    MSG_NO_TEMPLATES,
    TemplateError,
    available_templates,
    create_app,
)
from .loader import load_main_module
from .migrations import MigrationReport, check_migrations

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``dosim`` command."""
    parser = argparse.ArgumentParser(
        prog="dosim", description="Simulate Cloudflare Durable Objects for Python Workers."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="serve an app locally over HTTP, with real time and state on disk",
        description="Serve the app in PATH (a folder with wrangler.toml) on a local port.",
    )
    dev.add_argument("path", nargs="?", default=".", help="app folder or config file (default: .)")
    dev.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8787, help="port to bind (default: 8787)")
    where = dev.add_mutually_exclusive_group()
    where.add_argument(
        "--persist-to", metavar="DIR", help="state folder (default: PATH/.dosim/state)"
    )
    where.add_argument(
        "--in-memory", action="store_true", help="keep storage in memory; nothing is written"
    )
    dev.add_argument("--env", dest="environment", help="use the config's [env.NAME] section")
    dev.add_argument("--no-reload", action="store_true", help="do not reload on file changes")
    dev.add_argument(
        "--max-body-size",
        type=int,
        metavar="BYTES",
        help="largest request body accepted, 413 above (default: 100 MB, Cloudflare's "
        "Free/Pro limit)",
    )
    dev.add_argument(
        "--inspector-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also let the inspector answer requests for this host name (default: loopback "
        "names only, against DNS rebinding); repeatable",
    )
    dev.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="PATH",
        help="also load the Worker in PATH (its folder or config), so that service bindings "
        "reach it; its state is kept in its own folder; repeatable",
    )
    dev.set_defaults(run=_run_dev)

    new = commands.add_parser(
        "new",
        help="start a new app from a starter template",
        description="Copy a starter app (src/entry.py, tests/, wrangler.toml, "
        "pyproject.toml) into the new folder NAME. The Worker is named after the folder, "
        "with today's compatibility date. Without NAME, list the templates.",
        epilog="The older form `dosim new TEMPLATE DIR` is still accepted.",
    )
    new.add_argument("name", nargs="?", metavar="NAME", help="folder to create (new or empty)")
    new.add_argument("legacy_directory", nargs="?", help=argparse.SUPPRESS)
    new.add_argument(
        "--template",
        "-t",
        metavar="T",
        help=f"the starter to copy (default: {DEFAULT_TEMPLATE}); `dosim new` lists them",
    )
    new.set_defaults(run=_run_new)

    migrate = commands.add_parser(
        "migrate",
        help="check migrations the way a deploy would",
        description="Report what `wrangler deploy` would refuse about the Durable Object "
        "bindings and migrations in PATH's wrangler config and code.",
    )
    migrate.add_argument("--check", action="store_true", required=True, help="report only")
    migrate.add_argument("path", nargs="?", default=".", help="app folder or config file")
    migrate.add_argument("--env", dest="environment", help="use the config's [env.NAME] section")
    migrate.set_defaults(run=_run_migrate)

    run = commands.add_parser(
        "run",
        help="run a Python file with top-level await, as the docs' blocks run",
        usage="dosim run [-h] FILE [ARG ...]",
        description="Run the Python file FILE as __main__. Its top-level statements may "
        "`await` (it then runs on an asyncio event loop), as in every code block of the "
        "docs, and `workers` and `js` import as dosim's.",
        epilog="An uncaught exception prints its traceback and exits with status 1.",
    )
    run.add_argument("file", metavar="FILE", help="the Python file to run")
    run.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="ARG", help="what the file finds in sys.argv"
    )
    run.set_defaults(run=_run_file)
    return parser


def _run_dev(args: argparse.Namespace) -> int:
    try:
        # Imported here, not at the top: the server needs the optional ``dev`` extra, and
        # ``dosim new`` and ``dosim migrate`` must work without it.
        import websockets  # noqa: F401 - what uvicorn serves WebSockets with

        from .dev.server import DevServer
    except ImportError as missing:
        print(
            f"dosim dev needs the dev extra ({missing.name} is missing): "
            "pip install 'dosim[dev]'",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        # Before loading the app (and migrating its state): a taken port is the
        # commonest start-up failure, and uvicorn would only notice after the banner.
        check_port(args.host, args.port)
    except PortUnavailable as taken:
        print(f"dosim dev: {taken}", file=sys.stderr)
        return 1
    options = {}
    if args.max_body_size is not None:
        options["max_body_bytes"] = args.max_body_size
    try:
        server = DevServer(
            args.path,
            host=args.host,
            port=args.port,
            persist_to=args.persist_to,
            in_memory=args.in_memory,
            watch=not args.no_reload,
            environment=args.environment,
            inspector_hosts=args.inspector_host,
            workers=args.worker,
            **options,
        )
    except Exception as error:  # noqa: BLE001 - the app could not load: say why, exit 1
        logging.getLogger("dosim.dev").exception("dosim dev: cannot load the app: %s", error)
        return 1
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass
    return 0


def _run_new(args: argparse.Namespace) -> int:
    if args.name is None:
        names = available_templates()
        if not names:
            print(f"dosim new: {MSG_NO_TEMPLATES}", file=sys.stderr)
            return 1
        print("usage: dosim new NAME [--template T]\n\ntemplates:")
        for name, summary in names.items():
            print(f"  {name:<14} {summary}")
        return 0
    if args.legacy_directory is not None:  # dosim new TEMPLATE DIR
        if args.template is not None:
            print("dosim new: give NAME and --template, or TEMPLATE and DIR", file=sys.stderr)
            return 2
        template, directory = args.name, args.legacy_directory
    else:
        template, directory = args.template or DEFAULT_TEMPLATE, args.name
    try:
        target = create_app(template, directory)
    except TemplateError as error:
        print(f"dosim new: {error}", file=sys.stderr)
        return 1
    config = load_config(target)
    print(
        f"created {target} from the {template!r} template: Worker {config.name!r}, "
        f"compatibility date {config.compatibility_date}\n"
    )
    print(
        f"  cd {target}\n"
        "  uv run pytest              # run its tests (or: pytest)\n"
        "  uv run dosim dev           # serve it locally\n"
        "  uv run pywrangler deploy   # deploy it to Cloudflare"
    )
    return 0


def _run_migrate(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.path, env=args.environment)
    except ConfigError as error:
        report = MigrationReport.from_config_error(error)
    else:
        report = check_migrations(config, load_main_module)
    print(report.render())
    return 0 if report.ok else 1


def _run_file(args: argparse.Namespace) -> int:
    return run_file(args.file, args.args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dosim`` command.

    Args:
        argv: The arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 when the command found problems, 2 on bad usage.
    """
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
