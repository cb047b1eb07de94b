"""Gunicorn settings for `gunicorn wsgi:app --bind HOST:PORT`.

Worker model, chosen on purpose: ONE process with the threaded worker (`gthread`).
- Flask-SocketIO runs in `threading` mode on simple-websocket: each WebSocket holds a thread for its
  whole life, so `threads` must exceed open dashboards plus concurrent requests (400 by default:
  measured, 100 dashboards left a 100-thread worker unable to answer kiosks).
- One process, because Socket.IO long-polling needs every request of a session on the same process;
  gunicorn cannot make `-w N` sticky. To use more cores, run several of these processes on different
  ports behind a proxy with sticky sessions and set REDIS_URL (see README, "At scale").
- Sockets are bounded below the threads (server/live/guard.py): SOCKETIO_MAX_CONNECTIONS defaults to
  three quarters of GUNICORN_THREADS, so the rest always serve logins, pages and kiosks, and a socket
  that joins no authorised namespace within SOCKETIO_JOIN_SECONDS is closed.
- Not eventlet (unmaintained, gone from gunicorn) and not gevent: our work is short database
  transactions, where threads measured as well and keep the code free of monkey-patching.
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
# Several workers (the API pool): each listens on a socket of its own and the kernel spreads new
# connections across them. On one shared socket whichever worker woke first took them: 32 kiosks
# connecting at once were split unevenly, and the busier worker's kiosks waited twice as long
# (docs/performance.md). One worker gains nothing and keeps the usual error when its port is taken.
reuse_port = workers > 1
threads = int(os.environ.get("GUNICORN_THREADS", "400"))
# Open connections a worker holds, busy or kept alive: at the limit it stops accepting, and the next
# login waits in the kernel's queue. gunicorn's 1,000 was reached by 1,000 cheap WebSocket attempts
# (300 sockets, the rest refused but kept alive for `keepalive` seconds). Idle connections cost a file
# descriptor, not a thread: raise the service's open-files limit to match (systemd LimitNOFILE=8192).
worker_connections = int(os.environ.get("GUNICORN_CONNECTIONS", "4000"))
timeout = 60
graceful_timeout = 20
keepalive = 30
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # off by default: URLs may carry ticket tokens
errorlog = "-"


def post_worker_init(worker):
    """Hide the loaded app from the garbage collector (`gc.freeze`): a full collection then walks only
    what requests created since, not every module, route and mapper: a full collection no longer
    pauses a busy process for tens of milliseconds (docs/performance.md)."""
    import gc

    gc.freeze()
