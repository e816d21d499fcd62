"""gunicorn settings it reads from the working directory: the production command (README,
"Deploy") and both servers of the real-time benchmark run with them.

Only what the command line does not say lives here: the workers' garbage-collector tuning, the
request-line limit left to the app (its 414 is problem details, gunicorn's is HTML), and no
control socket.
"""

from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    """Once the worker has loaded the app: keep its start-up objects (modules, mappers,
    compiled statements, schemas: about 225,000 of them) out of every later collection, and
    collect young objects every 20,000 allocations instead of every 700.

    Measured in the real-time benchmark's worker (docs/performance.md): collections took
    about 12 % of its CPU time, each full one about 190 ms; tuned, about 4 %.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


# The app answers an over-long URL itself, as a problem-details 414 past 8,192 bytes
# (core/request_parsing.py, MAX_URL_LENGTH); gunicorn's own limit (4,094 by default) would
# answer first with an HTML page. 0 leaves gunicorn only its hard cap of 1 MiB per request line.
limit_request_line = 0

# No control socket (gunicorn 25.1+'s ``gunicornc`` interface). Its default path is one per user
# (``$XDG_RUNTIME_DIR/gunicorn.ctl`` or ``~/.gunicorn/gunicorn.ctl``), and the platform runs
# several gunicorn processes per host: each one started took the path over from the one before
# (``gunicornc`` reached whichever started last) and a stopping one removed another's socket.
# Nothing here uses it; processes are managed by signals from their supervisor. To use
# ``gunicornc``, drop this line and give each process its own ``--control-socket PATH``.
control_socket_disable = True
