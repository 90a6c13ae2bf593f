"""The one converter between the wire models and JSON-ready Python values.

The SDK and the server both import :data:`converter`, so a shape is defined
once. Parsing is lenient where a newer server could surprise an older
client: unknown keys are ignored (cattrs' default) and unknown enum values
become the enum's ``UNKNOWN`` member instead of an error.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from cattrs.preconf.json import JsonConverter, make_converter

from ocrchat.models import ErrorBody, JobStatus, Role, Tier

__all__ = ["converter", "structure", "unstructure"]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

converter: JsonConverter = make_converter()


def _lenient_enum(cls: type[E]) -> None:
    unknown = cls["UNKNOWN"]

    def structure(value: Any, _: type[E]) -> E:
        try:
            return cls(value)
        except ValueError:
            return unknown

    converter.register_structure_hook(cls, structure)


for _enum in (JobStatus, Tier, Role):
    _lenient_enum(_enum)


def _structure_error(value: Any, _: type[ErrorBody]) -> ErrorBody:
    data = dict(value)
    request_id = data.pop("request_id", None)
    return ErrorBody(
        error=str(data.pop("error", "")),
        code=str(data.pop("code", "unknown")),
        details=data,
        request_id=str(request_id) if request_id is not None else None,
    )


def _unstructure_error(body: ErrorBody) -> dict[str, Any]:
    shaped: dict[str, Any] = {"error": body.error, "code": body.code, **body.details}
    if body.request_id is not None:
        shaped["request_id"] = body.request_id
    return shaped


converter.register_structure_hook(ErrorBody, _structure_error)
converter.register_unstructure_hook(ErrorBody, _unstructure_error)


def structure(data: Any, cls: type[T]) -> T:
    """Parse JSON-decoded ``data`` into ``cls``."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Turn a model into JSON-ready dicts, lists and strings."""
    return converter.unstructure(obj)
