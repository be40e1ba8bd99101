"""A fault-injecting HTTP proxy in front of the moto server (no tests here): it throttles like S3 and Kinesis do.

S3 answers a request burst on a hot prefix with `503 SlowDown` (its real XML error), Kinesis a shard read above
its limit with `400 ProvisionedThroughputExceededException` (its real JSON error). The proxy answers a deterministic
share of the requests it receives (`rate`, spread evenly in arrival order: with 0.3, exactly 3 of every 10,
retries included, so a retried call may be throttled again) with that error and forwards every other request to
moto untouched. `only(method, target)` narrows which requests may be throttled (`target`: the `X-Amz-Target`
header of a JSON-protocol call such as `Kinesis_20131202.GetRecords`, empty for S3).
"""
from __future__ import annotations

import http.client
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
# Kinesis control-plane calls are limited per account (LimitExceededException), data-plane calls per shard.
KINESIS_CONTROL = {"ListShards", "DescribeStream", "DescribeStreamSummary", "CreateStream"}


def s3_slow_down() -> tuple[int, dict, bytes]:
    request_id = uuid.uuid4().hex[:16].upper()
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
            '<Message>Please reduce your request rate.</Message>'
            f'<RequestId>{request_id}</RequestId><HostId>proxy</HostId></Error>').encode()
    return 503, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body


def kinesis_throttled(target: str) -> tuple[int, dict, bytes]:
    operation = target.rpartition(".")[2]
    if operation in KINESIS_CONTROL:
        error = {"__type": "LimitExceededException", "message": "Rate exceeded for account 123456789012."}
    else:
        error = {"__type": "ProvisionedThroughputExceededException",
                 "message": "Rate exceeded for shard in stream under account 123456789012."}
    return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}, \
        json.dumps(error).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client dropping a kept-alive connection (botocore does after an error answer) is not a failure."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ThrottlingProxy:
    """`with ThrottlingProxy(moto_endpoint) as proxy:` → point clients at `proxy.url`; counters tell what it did."""

    def __init__(self, upstream: str, rate: float = 0.3, only=lambda method, target: True):
        self.upstream = urlsplit(upstream)
        self.rate, self.only = rate, only
        self._lock = threading.Lock()
        self._eligible = 0                      # requests `only` let be throttled, in arrival order
        self.requests = 0                       # every request that reached the proxy
        self.throttled = 0                      # answered with an error instead of being forwarded
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "ThrottlingProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _throttle(self, method: str, target: str) -> bool:
        with self._lock:
            self.requests += 1
            if not self.only(method, target):
                return False
            self._eligible += 1
            picked = int(self._eligible * self.rate) > int((self._eligible - 1) * self.rate)
            self.throttled += picked
            return picked

    def _forward(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"       # botocore keeps connections alive

            def log_message(self, *args):       # quiet: pytest shows stderr of failing tests
                pass

            def _send(self, status: int, headers, body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target", "")
                if proxy._throttle(self.command, target):
                    status, headers, payload = kinesis_throttled(target) if target else s3_slow_down()
                    self._send(status, headers.items(), payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                self._send(*proxy._forward(self.command, self.path, headers, body))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
