"""Start the Hub-API test double: python -m tests.hubserver --port 0 --root DIR --token T --port-file F."""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.hubserver.server import serve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--token", required=True, help="the only token accepted for writes")
    ap.add_argument("--port-file", type=Path, required=True)
    args = ap.parse_args()
    serve(port=args.port, root=args.root, token=args.token, port_file=args.port_file)


if __name__ == "__main__":
    main()
