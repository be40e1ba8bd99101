"""The optional RTA push (`CC_RTA_PUSH_URL`): one JSON POST of the tick's delta batch.

Body: `{"snapshot": bool, "sent_at": iso, "states": [{user_code, state_code, state_name, logged_on,
seconds_in_state, timestamp, snapshot}]}`. The key (`CC_RTA_PUSH_KEY`) goes in the `x-api-key` header and is
never logged. 5xx and connection errors are retried with backoff; 4xx are not.
"""
from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import dagster as dg

log = logging.getLogger(__name__)


class PushFailed(RuntimeError):
    pass


def push_states(url: str, states: list[dict], snapshot: bool, key: str | None = None, attempts: int = 3,
                backoff: float = 0.5, timeout: float = 5.0) -> int:
    """POST the batch; returns the HTTP status. Raises PushFailed after the last attempt or on a 4xx."""
    key = key if key is not None else dg.EnvVar("CC_RTA_PUSH_KEY").get_value()
    body = json.dumps({"snapshot": snapshot, "sent_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       "states": states}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    last = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:
                raise PushFailed(f"RTA push rejected: HTTP {exc.code}") from None
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = type(exc).__name__
        log.warning("RTA push attempt %d/%d failed (%s)", attempt + 1, attempts, last)
    raise PushFailed(f"RTA push failed after {attempts} attempts ({last})")
