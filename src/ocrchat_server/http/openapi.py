"""The OpenAPI 3.1 document of the API, at ``GET /api/v1/openapi.json``.

The response shapes are generated from the shared attrs models in :mod:`ocrchat.models`
(the ones the one cattrs converter writes), so the document cannot drift from what the
server sends; the operations are declared here, one entry per route. The test suite runs
schemathesis against the document and a real server.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from typing import Any

import attrs

from ocrchat import __version__, models
from ocrchat_server.jobs.accounts import MAX_TOKENS
from ocrchat_server.jobs.service import DETAILS

_JSON = "application/json"
_UNKNOWN = "unknown"
"""The enums' client-side member for values a newer server may send; never sent."""

Schema = dict[str, Any]


class _Components:
    """The schemas of the attrs models met so far, by class name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}

    def of(self, kind: Any) -> Schema:
        """The JSON Schema of a model field's type."""
        origin = typing.get_origin(kind)
        arguments = typing.get_args(kind)
        if kind is type(None):
            return {"type": "null"}
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.of(argument) for argument in arguments]}
        if origin is list:
            return {"type": "array", "items": self.of(arguments[0])}
        if origin is tuple:
            return {
                "type": "array",
                "prefixItems": [self.of(argument) for argument in arguments],
                "minItems": len(arguments),
                "maxItems": len(arguments),
            }
        if origin is dict:
            return {"type": "object", "additionalProperties": self.of(arguments[1])}
        if kind is object or kind is Any:
            return {}
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            values = [member.value for member in kind if member.value != _UNKNOWN]
            return {"type": "string", "enum": values}
        if isinstance(kind, type) and attrs.has(kind):
            return self.model(kind)
        simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
        if kind in simple:
            return {"type": simple[kind]}
        if kind is dt.datetime:
            return {"type": "string", "format": "date-time"}
        raise TypeError(f"no JSON Schema for {kind!r}")

    def model(self, cls: type) -> Schema:
        name = cls.__name__
        if name not in self.schemas:
            self.schemas[name] = {}  # a placeholder while its fields are worked out
            hints = typing.get_type_hints(cls)
            properties = {field.name: self.of(hints[field.name]) for field in attrs.fields(cls)}
            required = [field.name for field in attrs.fields(cls) if field.default is attrs.NOTHING]
            schema: Schema = {"type": "object", "properties": properties}
            if required:
                schema["required"] = required
            if cls.__doc__:
                schema["description"] = cls.__doc__.strip().split("\n\n")[0]
            self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}


def _error_schema() -> Schema:
    # ErrorBody's details are written beside error and code, not under a key of their own
    return {
        "type": "object",
        "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
        "required": ["error", "code"],
        "additionalProperties": True,
    }


def _errors(*statuses: int, described_as: dict[int, str] | None = None) -> dict[str, Any]:
    """The error answers of an operation; ``described_as``: its own words for some."""
    described = {
        400: "The request cannot make a job (the code says why).",
        401: "No token, or not a valid one.",
        402: "The plan's allowance would be overrun; nothing was charged.",
        404: "No such job or conversation for this account.",
        408: "The upload stopped sending.",
        409: "The job is not done.",
        429: "Too many requests or queued pages for this account (see Retry-After).",
        502: "The language model failed.",
        503: "The tier cannot read now, or the server is over its connection cap.",
        504: "The language model was too slow.",
        507: "The server's disk is full; nothing was charged (see Retry-After).",
    } | (described_as or {})
    return {
        str(status): {
            "description": described[status],
            "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


_UUID_PARAMETER = {
    "name": "uuid",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The job's id.",
}
_SUBMIT_FIELDS = {
    "tier": "`cpu` (default) or `vlm`.",
    "language": "`auto` (default), ISO 639-1 codes, aliases or Tesseract codes, joined by `+`.",
    "tool": "A tool's slug (GET /api/v1/tools/).",
    "translate_to": "The target language of the `translate` tool.",
    "engine": "cpu tier: `auto` (default), `tesseract` or `ppocr`.",
    "ocr": "PDFs: `auto` (default), `force` or `skip`.",
    "pages": "The pages to read and charge, 1-based: `1-3,7`, `10-` (to the end). Default: all.",
    "webhook_url": "An http(s) URL the server POSTs the job's summary to when it ends.",
}


@functools.cache
def openapi_document(downloads: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The whole document; ``downloads``: the download formats this server writes, each
    with its media type."""
    formats = [fmt for fmt, _ in downloads]
    media_types = sorted({media.split(";")[0] for _, media in downloads})
    components = _Components()
    job = components.model(models.Job)
    secured: list[dict[str, list[str]]] = [{"bearer": []}, {"api_token": []}]
    paths: dict[str, Any] = {
        "/api/v1/ocr/": {
            "post": {
                "operationId": "submit",
                "summary": "Submit a document (5 pages or fewer are read before the answer).",
                "security": secured,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    **{
                                        name: {"type": "string", "description": text}
                                        for name, text in _SUBMIT_FIELDS.items()
                                    },
                                },
                                "required": ["file"],
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(job, "The job, done or failed."),
                    "202": _json(job, "The job, pending or processing: poll it."),
                    **_errors(400, 401, 402, 408, 429, 503, 507),
                },
            },
            "get": {
                "operationId": "list",
                "summary": "The account's jobs, newest first, without their pages.",
                "security": secured,
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "string",
                            "enum": [s.value for s in models.JobStatus if s.value != _UNKNOWN],
                        },
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The previous page's next_cursor.",
                    },
                ],
                "responses": {
                    "200": _json(components.model(models.JobList), "A page of jobs."),
                    **_errors(400, 401, 429),
                },
            },
        },
        "/api/v1/ocr/{uuid}/": {
            "parameters": [_UUID_PARAMETER],
            "get": {
                "operationId": "poll",
                "summary": "The job, and its result once done.",
                "security": secured,
                "parameters": [
                    {
                        "name": "detail",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(DETAILS)},
                        "description": (
                            "`words`: each block's `words` (text, box, confidence, whether the"
                            " box is estimated) too. Left out, `words` is null: the default"
                            " JSON stays small."
                        ),
                    }
                ],
                "responses": {"200": _json(job, "The job."), **_errors(400, 401, 404, 429)},
            },
            "delete": {
                "operationId": "delete",
                "summary": "Delete the job and its files now; pages not read are given back.",
                "security": secured,
                "responses": {
                    "200": _json(components.model(models.DeletedJob), "Deleted."),
                    **_errors(401, 404, 429),
                },
            },
        },
        "/api/v1/ocr/{uuid}/download/": {
            "parameters": [_UUID_PARAMETER],
            "get": {
                "operationId": "download",
                "summary": "The done job as a file.",
                "security": secured,
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "enum": formats},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment.",
                        "content": {
                            media: {"schema": {"type": "string", "format": "binary"}}
                            for media in media_types
                        },
                    },
                    **_errors(400, 401, 404, 409, 429),
                },
            },
        },
        "/api/v1/chat/{uuid}/": {
            "parameters": [_UUID_PARAMETER],
            "post": {
                "operationId": "chat",
                "summary": "Ask about the done job's text; answers cite its lines.",
                "security": secured,
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "message": {"type": "string", "maxLength": 4000},
                                    "conversation": {"type": "string"},
                                },
                                "required": ["message"],
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(components.model(models.ChatReply), "The answer."),
                    **_errors(400, 401, 404, 409, 429, 502, 504),
                },
            },
        },
        "/api/v1/chat/{uuid}/history/": {
            "parameters": [_UUID_PARAMETER],
            "get": {
                "operationId": "history",
                "summary": "The job's conversations.",
                "security": secured,
                "responses": {
                    "200": _json(components.model(models.History), "Its conversations."),
                    **_errors(401, 404, 429),
                },
            },
        },
        "/api/v1/account/": {
            "get": {
                "operationId": "account",
                "summary": "The account: plan, usage, caps, credits.",
                "security": secured,
                "responses": {
                    "200": _json(components.model(models.Account), "The account."),
                    **_errors(401, 429),
                },
            },
            "patch": {
                "operationId": "update_account",
                "summary": "Set (or, with null, remove) the account's default webhook.",
                "security": secured,
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "webhook_url": {
                                        "anyOf": [{"type": "string"}, {"type": "null"}]
                                    },
                                    "rotate_webhook_secret": {"type": "boolean"},
                                },
                                "minProperties": 1,
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(components.model(models.Account), "The account."),
                    **_errors(400, 401, 429),
                },
            },
        },
        "/api/v1/account/tokens/": {
            "get": {
                "operationId": "tokens",
                "summary": "The account's API tokens, newest first: key ids, never the tokens.",
                "security": secured,
                "responses": {
                    "200": _json(components.model(models.TokenList), "The tokens."),
                    **_errors(401, 429),
                },
            },
            "post": {
                "operationId": "create_token",
                "summary": "A new API token for the account, shown only in this answer.",
                "security": secured,
                "responses": {
                    "201": _json(components.model(models.NewApiToken), "The new token."),
                    **_errors(
                        401,
                        409,
                        429,
                        described_as={
                            409: f"The account holds {MAX_TOKENS} tokens, the most it may "
                            "(`too_many_tokens`).",
                        },
                    ),
                },
            },
        },
        "/api/v1/account/tokens/{key_id}/": {
            "parameters": [
                {
                    "name": "key_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The token's key id (`ApiToken.key_id`).",
                }
            ],
            "delete": {
                "operationId": "revoke_token",
                "summary": "Revoke the token: it stops working now, and its web sessions end.",
                "security": secured,
                "responses": {
                    "200": _json(components.model(models.RevokedToken), "Revoked."),
                    **_errors(
                        401,
                        404,
                        409,
                        429,
                        described_as={
                            404: "No token with that key id for this account.",
                            409: "It is the account's only token (`last_token`).",
                        },
                    ),
                },
            },
        },
        "/api/v1/tools/": {
            "get": {
                "operationId": "tools",
                "summary": "The tools and the tiers each runs on.",
                "security": [],
                "responses": {"200": _json(components.model(models.Tools), "The tools.")},
            }
        },
        "/api/v1/engines/": {
            "get": {
                "operationId": "engines",
                "summary": "The engines of each tier: ready or not, versions, languages.",
                "security": [],
                "responses": {"200": _json(components.model(models.Engines), "The engines.")},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Up, or degraded (a background task down, a full disk).",
                "security": [],
                "responses": {
                    "200": _json(_HEALTH, "Up."),
                    "503": _json(_HEALTH, "Degraded: see problems."),
                },
            }
        },
    }
    components.schemas["Error"] = _error_schema()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ocrchat",
            "version": __version__,
            "description": "OCR documents and chat with them (docs/api.md).",
        },
        "servers": [{"url": "/"}],
        "security": secured,
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "api_token": {"type": "apiKey", "in": "query", "name": "api_token"},
            },
        },
    }


_HEALTH: Schema = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "version": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "recent_failures": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "task": {"type": "string"},
                    "error": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    "required": ["status", "version", "time", "problems", "recent_failures"],
}
