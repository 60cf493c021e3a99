"""Replays recorded Argilla HTTP exchanges to the real argilla SDK through an httpx transport.

No Argilla server can run on these machines (it needs Elasticsearch), so the Argilla
adapter is tested against recordings. They were written from Argilla 2.8's REST API
(the server's v1 schemas) and the SDK 2.8 source, not captured from a live server. Each
request the SDK sends must match a recorded exchange (method, path, query); its body is
kept so the test can assert what would have been sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

RECORDINGS = Path(__file__).parent / "recordings"


@dataclass
class Replay:
    """An httpx handler: each request consumes the first unused matching exchange."""

    exchanges: list[dict[str, Any]]
    used: list[bool] = field(default_factory=list)
    sent: list[tuple[str, str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, name: str) -> Replay:
        exchanges = json.loads((RECORDINGS / name).read_text())["exchanges"]
        return cls(exchanges, [False] * len(exchanges))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        for i, ex in enumerate(self.exchanges):
            want = ex["request"]
            if self.used[i] or want["method"] != request.method:
                continue
            if want["path"] != request.url.path or not self._query_matches(want, request):
                continue
            self.used[i] = True
            response = ex["response"]
            return httpx.Response(response["status"], json=response.get("json"))
        raise AssertionError(f"no recorded exchange for {request.method} {request.url}")

    @staticmethod
    def _query_matches(want: dict[str, Any], request: httpx.Request) -> bool:
        query = want.get("query", {})
        params = request.url.params
        return all(
            params.get_list(k) == (v if isinstance(v, list) else [v]) for k, v in query.items()
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def unused(self) -> list[str]:
        return [
            f"{ex['request']['method']} {ex['request']['path']}"
            for ex, used in zip(self.exchanges, self.used, strict=True)
            if not used
        ]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.sent if m == method and p == path]
