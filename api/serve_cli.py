# ruff: noqa: T201 - a command line prints to the terminal
"""``slicefarm serve`` starts the farm service; ``slicefarm keys`` manages its API keys."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from farm.config import FarmConfig, load_config
from farm.db import Database
from farm.keys import ApiKeyError, create_key, list_keys, revoke_key
from printers.profiles import ProfileError

log = logging.getLogger(__name__)
DEFAULT_DATA_DIR = ".slicefarm"
DEMO_KEY_FILE = "demo-key"
DEMO_KEY_NAME = "demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="start the farm service (REST API, dashboard, dispatcher)",
        description="Start the farm: without --config the demo farm of virtual printers.",
    )
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=run_serve)

    keys = subparsers.add_parser("keys", help="create, list and revoke API keys")
    _common(keys)
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key and show it once")
    create.add_argument("name")
    actions.add_parser("list", help="list the key names")
    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("name")
    keys.set_defaults(func=run_keys)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="farm.toml (default: the demo farm)")
    parser.add_argument("--data-dir", help=f"where state lives (default: {DEFAULT_DATA_DIR})")


def _setup(args: argparse.Namespace) -> tuple[FarmConfig, Path]:
    config = load_config(args.config)
    data_dir = Path(args.data_dir or config.data_dir or DEFAULT_DATA_DIR)
    data_dir.mkdir(parents=True, exist_ok=True)
    return config, data_dir


def demo_key(db: Database, data_dir: Path) -> str | None:
    """The demo key: created on the first start of a data dir, the same on every later one."""
    path = data_dir / DEMO_KEY_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if list_keys(db):
        return None  # keys were made by hand; do not add one
    key = create_key(db, DEMO_KEY_NAME)
    path.write_text(key + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return key


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from farm.service import FarmService

    try:
        config, data_dir = _setup(args)
        service = FarmService(config, data_dir)
    except (ProfileError, RuntimeError, OSError) as exc:
        print(f"slicefarm: error: {exc}", file=sys.stderr)
        return 2
    key = demo_key(service.db, data_dir)
    url = f"http://{args.host}:{args.port}/"
    print(f"slicefarm: {config.name} with {len(config.printers)} printers at {url}", flush=True)
    if key:
        print(f"slicefarm: API key: {key}   (dashboard: {url}#key={key})", flush=True)
    print(f"slicefarm: data in {data_dir.resolve()}", flush=True)
    uvicorn.run(
        create_app(service),
        host=args.host,
        port=args.port,
        log_level="info" if args.verbose else "warning",
        timeout_graceful_shutdown=3,
    )
    return 0


def run_keys(args: argparse.Namespace) -> int:
    try:
        config, data_dir = _setup(args)
        db = Database(config.database_url or f"sqlite:///{data_dir / 'farm.db'}")
        if args.keys_action == "create":
            print(create_key(db, args.name))
        elif args.keys_action == "list":
            for info in list_keys(db):
                print(f"{info.name}\t{info.created}")
        else:
            revoke_key(db, args.name)
            print(f"revoked {args.name}")
        return 0
    except (ProfileError, ApiKeyError) as exc:
        print(f"slicefarm: error: {exc}", file=sys.stderr)
        return 2
