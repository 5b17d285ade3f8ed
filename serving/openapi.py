"""The OpenAPI 3.1 document of the feed service, served at ``/openapi.json``.

Written by hand next to the routes it describes (``serving.app.routes``); a property-based test
checks the running service against it.
"""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
SNAPSHOT_HEADER = {
    "X-Prism-Snapshot": {
        "description": "the snapshot the whole answer comes from",
        "schema": {"type": "string"},
    }
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        300: "the channel has several files: ask for one",
        400: "a malformed Range header",
        401: "no valid bearer token",
        403: "the token may not read this channel",
        404: "no such snapshot, channel or file",
        409: "no delta from `since` to the live snapshot: fetch the full feed",
        410: "the snapshot is no longer kept",
        416: "the Range cannot be satisfied",
        503: "no snapshot is live yet",
    }
    return {str(s): _json(ERROR, reasons[s]) for s in statuses}


def _file_responses() -> dict[str, Any]:
    return {
        "200": {
            "description": (
                "the feed file; zstd- or gzip-encoded per Accept-Encoding (q-values honoured, "
                'zstd preferred on a tie), with a weak ETag W/"<sha256>-zstd" or -gzip then'
            ),
            "headers": {
                **SNAPSHOT_HEADER,
                "ETag": {"description": "the file's sha256, quoted", "schema": {"type": "string"}},
                "Last-Modified": {"schema": {"type": "string"}},
                "Content-Encoding": {
                    "description": "zstd or gzip when compressed (absent: the file's bytes)",
                    "schema": {"type": "string", "enum": ["zstd", "gzip"]},
                },
            },
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "206": {
            "description": "the requested byte range(s) of the file itself (never compressed)",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {"description": "unchanged (If-None-Match matched the ETag)"},
        **_errors(300, 400, 401, 403, 404, 410, 416),
    }


def _parameter(name: str, where: str = "path", **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": {"type": "string", **schema},
    }


CHANNEL = _parameter("channel")
FILE = _parameter("file")
SNAPSHOT = _parameter("snapshot", description="a snapshot id, or `current` for the live one")
SINCE = _parameter(
    "since", "query", description="the snapshot the client has: answer with the delta from it"
)


def _feed_get(summary: str, *parameters: dict[str, Any], delta: bool = False) -> dict[str, Any]:
    responses = _file_responses()
    if delta:
        responses["204"] = {"description": "`since` is the live snapshot: nothing changed"}
        responses |= _errors(409, 503)
    return {
        "get": {
            "summary": summary,
            "security": [{"channelToken": []}, {"oidc": []}],
            "parameters": [*parameters],
            "responses": responses,
        }
    }


def openapi_document() -> dict[str, Any]:
    live = "the live snapshot's"
    return {
        "openapi": "3.1.0",
        "info": {"title": "Prism feed service", "version": "1"},
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "liveness and the snapshot being served",
                    "responses": {
                        "200": _json({"type": "object"}, "a snapshot is live"),
                        "503": _json({"type": "object"}, "no snapshot is live yet"),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format 0.0.4",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/v1/channels/{channel}/feed": _feed_get(
                f"{live} feed of a channel (one file), or with `since` its delta",
                CHANNEL,
                SINCE,
                delta=True,
            ),
            "/v1/channels/{channel}/feed/{file}": _feed_get(
                f"one file of {live} feed of a channel, or with `since` its delta file",
                CHANNEL,
                FILE,
                SINCE,
                delta=True,
            ),
            "/v1/snapshots/{snapshot}/manifest": {
                "get": {
                    "summary": "a snapshot's manifest (the channels the token may read)",
                    "security": [{"channelToken": []}, {"oidc": []}],
                    "parameters": [SNAPSHOT],
                    "responses": {
                        "200": _json({"type": "object"}, "the manifest"),
                        "304": {"description": "unchanged"},
                        **_errors(401, 404),
                    },
                }
            },
            "/v1/snapshots/{snapshot}/channels/{channel}/feed": _feed_get(
                "a kept snapshot's feed of a channel", SNAPSHOT, CHANNEL
            ),
            "/v1/snapshots/{snapshot}/channels/{channel}/feed/{file}": _feed_get(
                "one file of a kept snapshot's feed of a channel", SNAPSHOT, CHANNEL, FILE
            ),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                }
            },
            "securitySchemes": {
                "channelToken": {"type": "http", "scheme": "bearer"},
                "oidc": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
