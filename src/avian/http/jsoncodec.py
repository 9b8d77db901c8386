"""JSON encoding and hardened decoding, on msgspec.

Decoding is strict JSON (no NaN, no trailing data, UTF-8 only) and enforces the
:class:`~avian.http.limits.BodyLimits` JSON limits.  The structural limits are checked with
byte counts first (``count`` runs at C speed): only a body that *could* exceed a limit is
walked, so ordinary small bodies pay almost nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec

from ..errors import BodyError
from .limits import BodyLimits

__all__ = ["check_json_limits", "decode_json", "encode_json", "json_encoder"]


def _enc_hook(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)  # pydantic v2 models, without importing pydantic
    if dump is not None and callable(dump):
        return dump(mode="json")
    if isinstance(obj, set | frozenset):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


json_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
encode_json = json_encoder.encode
_decoder = msgspec.json.Decoder()


def check_json_limits(body: bytes, limits: BodyLimits) -> None:
    """Raise 400 when a JSON text could exceed a structural limit and, walked, does."""
    # PERF: each count is an upper bound of what it guards, computed in C.
    openers = body.count(b"{") + body.count(b"[")
    might_nest = openers > limits.json_max_depth
    might_wide_obj = body.count(b":") > limits.json_max_keys
    might_long_arr = body.count(b",") >= limits.json_max_array_length
    might_long_str = len(body) > limits.json_max_string_length
    if might_nest or might_wide_obj or might_long_arr or might_long_str:
        try:
            value = _decoder.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise BodyError(400, f"malformed JSON: {exc}") from None
        except RecursionError:
            raise _too_deep(limits) from None
        _walk(value, limits)


def _too_deep(limits: BodyLimits) -> BodyError:
    return BodyError(400, f"JSON nested deeper than {limits.json_max_depth} levels")


def _walk(root: Any, limits: BodyLimits) -> None:
    stack: list[tuple[Any, int]] = [(root, 1)]
    max_depth = limits.json_max_depth
    max_str = limits.json_max_string_length
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise _too_deep(limits)
            if len(value) > limits.json_max_keys:
                raise BodyError(400, f"JSON object has more than {limits.json_max_keys} keys")
            for k, v in value.items():
                if len(k) > max_str:
                    raise BodyError(400, f"JSON key longer than {max_str} characters")
                if isinstance(v, dict | list | str):
                    stack.append((v, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise _too_deep(limits)
            if len(value) > limits.json_max_array_length:
                raise BodyError(
                    400, f"JSON array has more than {limits.json_max_array_length} items"
                )
            for v in value:
                if isinstance(v, dict | list | str):
                    stack.append((v, depth + 1))
        elif isinstance(value, str) and len(value) > max_str:
            raise BodyError(400, f"JSON string longer than {max_str} characters")


def decode_json(
    body: bytes, limits: BodyLimits, decoder: msgspec.json.Decoder[Any] = _decoder
) -> Any:
    """Decode a JSON body within limits: 400 for malformed or over-limit JSON.

    Pass a typed ``decoder`` (built once, at startup) to validate; its errors propagate as
    :class:`msgspec.ValidationError` so the caller can answer 422 listing every issue.
    """
    if not body:
        raise BodyError(400, "empty body where JSON was expected")
    check_json_limits(body, limits)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError:
        raise
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # msgspec reports invalid UTF-8 inside strings as UnicodeDecodeError.
        raise BodyError(400, f"malformed JSON: {exc}") from None
    except RecursionError:
        # Nesting deeper than the interpreter's recursion limit (only reachable when
        # json_max_depth is set above it; otherwise check_json_limits caught it).
        raise _too_deep(limits) from None
