"""A local stand-in for Amazon Connect's `POST /metrics/data` (GetMetricDataV2) and its List* summaries
(`GET /queues-summary/<instance>`, `/users-summary/`, `/routing-profiles-summary/`, `/user-hierarchy-groups-summary/`),
speaking its REST-JSON protocol on a real socket at 127.0.0.1: it answers the first `throttle_first` requests with
429 TooManyRequestsException, then serves the values and summaries it holds, `page_size` results a page, linked by
NextToken (`nextToken` in a List* query string)."""
from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class ConnectMetricsServer:
    # List* path -> the response's summary list key
    LISTS = {"queues-summary": "QueueSummaryList", "users-summary": "UserSummaryList",
             "routing-profiles-summary": "RoutingProfileSummaryList",
             "user-hierarchy-groups-summary": "UserHierarchyGroupSummaryList"}

    def __init__(self, values: dict[tuple[datetime, str, str], float], page_size: int = 2, throttle_first: int = 1,
                 summaries: dict[str, list[dict]] | None = None):
        self.values = values            # (interval start, aware UTC; queue id; metric name) -> value
        self.summaries = summaries or {}  # List* path ("queues-summary", ...) -> its summaries, in order
        self.page_size = page_size
        self.throttle_first = throttle_first
        self.requests: list[dict] = []  # every request body, throttled ones included
        self.throttled = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                server.requests.append({"path": self.path, **body})
                if self.path != "/metrics/data":
                    return self._send(404, {"message": f"no route {self.path}"}, "ResourceNotFoundException")
                if server.throttled < server.throttle_first:
                    server.throttled += 1
                    return self._send(429, {"message": "Rate exceeded"}, "TooManyRequestsException")
                return self._send(200, server.page(body))

            def do_GET(self):
                url = urlparse(self.path)
                query = {key: values if len(values) > 1 else values[0] for key, values in parse_qs(url.query).items()}
                server.requests.append({"path": url.path, **query})
                _, operation, _instance = url.path.split("/", 2)
                if operation not in ConnectMetricsServer.LISTS:
                    return self._send(404, {"message": f"no route {self.path}"}, "ResourceNotFoundException")
                if server.throttled < server.throttle_first:
                    server.throttled += 1
                    return self._send(429, {"message": "Rate exceeded"}, "TooManyRequestsException")
                return self._send(200, server.list_page(operation, query))

            def _send(self, status, payload, error_type=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def page(self, body: dict) -> dict:
        start, end = body["StartTime"], body["EndTime"]
        names = [m["Name"] for m in body["Metrics"]]
        queues = {v for f in body["Filters"] if f["FilterKey"] == "QUEUE" for v in f["FilterValues"]}
        cells = sorted({(t, q) for t, q, _ in self.values if start <= t.timestamp() < end and q in queues})
        results = [{"Dimensions": {"QUEUE": q, "QUEUE_ARN": f"arn:aws:connect:eu-west-1:1:instance/I1/queue/{q}"},
                    "MetricInterval": {"Interval": "FIFTEEN_MIN", "StartTime": t.timestamp(),
                                       "EndTime": t.timestamp() + 900},
                    "Collections": [{"Metric": {"Name": n}, "Value": self.values[(t, q, n)]}
                                    for n in names if (t, q, n) in self.values]}
                   for t, q in cells]
        offset = int(body.get("NextToken") or 0)
        page = {"MetricResults": results[offset:offset + self.page_size]}
        if offset + self.page_size < len(results):
            page["NextToken"] = str(offset + self.page_size)
        return page

    def list_page(self, operation: str, query: dict) -> dict:
        items = self.summaries.get(operation, [])
        if operation == "queues-summary":
            types = query.get("queueTypes", [])
            types = {types} if isinstance(types, str) else set(types)
            items = [item for item in items if item.get("QueueType") in types]
        offset = int(query.get("nextToken") or 0)
        page = {self.LISTS[operation]: items[offset:offset + self.page_size]}
        if offset + self.page_size < len(items):
            page["NextToken"] = str(offset + self.page_size)
        return page

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
