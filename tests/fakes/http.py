"""Running a fake's ``ThreadingHTTPServer`` on 127.0.0.1 for the length of a ``with`` block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer


@contextmanager
def running(server: ThreadingHTTPServer, stopping: threading.Event) -> Iterator[None]:
    """Serve until the block ends; ``stopping`` is set first, so hanging answers end too."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
