"""moto's DynamoDB server with one request at a time.

moto applies TransactWriteItems by copying the table and restoring the copy
when a condition fails; with concurrent requests a failed transaction can
undo another one's committed write. DynamoDB serializes conflicting
transactions itself, so the tests' server does it for moto by running each
request under one lock (connections are still served by threads).

usage: python3 moto_serial.py HOST PORT [concurrent]

With "concurrent", requests are not serialized: for benchmarks that make no
transactions and must not measure a one-at-a-time server.
"""
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serial(environ, start_response):
    with lock:
        return list(app(environ, start_response))


if __name__ == "__main__":
    handler = app if len(sys.argv) > 3 and sys.argv[3] == "concurrent" else serial
    run_simple(sys.argv[1], int(sys.argv[2]), handler, threaded=True)
