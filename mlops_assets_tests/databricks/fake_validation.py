"""Request bodies checked against databricks-sdk's own API signatures and dataclasses.

The SDK's ``from_dict`` silently drops keys it does not know, so a body is valid only if every
top-level key is a parameter of the SDK method that sends it and every nested object survives a
round trip ``X.from_dict(v).as_dict() == v`` (empty lists and maps aside: ``as_dict`` omits them).
"""

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any


class InvalidRequestError(Exception):
    """A request the real service would refuse (HTTP 400)."""


def _strip_empty(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _strip_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_strip_empty(v) for v in value]
    return value


def _unknown_paths(sent: Any, kept: Any, where: str) -> list[str]:
    """Paths present in ``sent`` but lost (or changed) in the round trip ``kept``."""
    if isinstance(sent, dict):
        if not isinstance(kept, dict):
            return [where]
        lost = []
        for key, value in sent.items():
            if key not in kept:
                lost.append(f"{where}.{key}")
            else:
                lost += _unknown_paths(value, kept[key], f"{where}.{key}")
        return lost
    if isinstance(sent, list):
        if not isinstance(kept, list) or len(sent) != len(kept):
            return [where]
        return [
            p
            for i, (a, b) in enumerate(zip(sent, kept, strict=True))
            for p in _unknown_paths(a, b, f"{where}[{i}]")
        ]
    return [] if sent == kept else [where]


def check_value(annotation: Any, value: Any, where: str) -> None:
    """Raise InvalidRequestError when ``value`` does not fit ``annotation`` exactly."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        annotation = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return
    if origin is list:
        if not isinstance(value, list):
            raise InvalidRequestError(f"{where} must be a list")
        for i, item in enumerate(value):
            check_value(args[0], item, f"{where}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise InvalidRequestError(f"{where} must be an object")
        for key, item in value.items():
            check_value(args[1], item, f"{where}.{key}")
        return
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if value not in {m.value for m in annotation}:
            raise InvalidRequestError(
                f"{where}: {value!r} is not one of {[m.value for m in annotation]}"
            )
        return
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, dict):
            raise InvalidRequestError(f"{where} must be an object")
        sent = _strip_empty(value)
        kept = _strip_empty(annotation.from_dict(value).as_dict())  # type: ignore[attr-defined]
        lost = _unknown_paths(sent, kept, where)
        if lost:
            raise InvalidRequestError(
                f"unknown or invalid field(s) {lost} for {annotation.__name__}"
            )
        return
    scalars: dict[object, type | tuple[type, ...]] = {
        bool: bool,
        int: int,
        float: (int, float),
        str: str,
    }
    expected = scalars.get(annotation)
    if expected is not None and (
        not isinstance(value, expected) or (annotation is not bool and isinstance(value, bool))
    ):
        raise InvalidRequestError(
            f"{where} must be {annotation.__name__}, got {type(value).__name__}"
        )


def validate_body(method: Callable[..., Any], body: Any, path_params: tuple[str, ...] = ()) -> None:
    """Check a JSON body against the SDK method that sends it (unknown keys are refused)."""
    if not isinstance(body, dict):
        raise InvalidRequestError("the request body must be a JSON object")
    hints = typing.get_type_hints(method)
    params = inspect.signature(method).parameters
    allowed = {n for n in params if n != "self" and n not in path_params}
    for key, value in body.items():
        if key not in allowed:
            raise InvalidRequestError(
                f"unknown field {key!r} for {method.__qualname__}; known: {sorted(allowed)}"
            )
        check_value(hints[key], value, key)


def check_response(cls: type[Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The fake's own answers must also survive the SDK's round trip (a self-check)."""
    kept = _strip_empty(cls.from_dict(payload).as_dict())
    lost = _unknown_paths(_strip_empty(payload), kept, cls.__name__)
    if lost:
        raise AssertionError(f"the fake built an invalid {cls.__name__}: {lost}")
    return payload
