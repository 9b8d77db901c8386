"""Signed-cookie sessions: the whole session lives in the cookie, signed with itsdangerous.

Nothing is stored on the server, so any number of workers can serve a user with no shared
store.  The price: the cookie carries the data (4 KB at most), the client can read it
(signed, not encrypted), and a logged-out cookie cannot be revoked before it expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

import msgspec
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from ..errors import ConfigurationError
from .backend import MAX_COOKIE_SIZE, SessionBackend, SessionOptions, SessionRecord

__all__ = ["CookieSession"]

_MIN_KEY_LENGTH = 16


class _JSON:
    """The payload serialiser: strict JSON through msgspec (NaN and bytes refused)."""

    _encoder = msgspec.json.Encoder()

    @classmethod
    def dumps(cls, obj: Any) -> str:
        return cls._encoder.encode(obj).decode()

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return msgspec.json.decode(data)


class CookieSession(SessionBackend):
    """Sessions stored in a signed cookie: ``CookieSession("secret")`` or, to rotate keys,
    ``CookieSession(["new key", "old key"])``.

    The first key signs; every key verifies, so cookies signed with an older key keep
    working until they expire while you roll a new key out.  Data must be JSON.
    ``absolute_timeout`` and ``idle_timeout`` are enforced from the signed creation time
    and the signature's own timestamp (renewed whenever the cookie is re-sent).
    """

    resend_on_touch = True

    def __init__(
        self,
        secret_key: str | bytes | Sequence[str | bytes],
        *,
        cookie_name: str = "session",
        salt: str = "avian.session",
        **options: Unpack[SessionOptions],
    ) -> None:
        super().__init__(cookie_name=cookie_name, **options)
        keys = [secret_key] if isinstance(secret_key, str | bytes) else list(secret_key)
        if not keys:
            raise ConfigurationError("CookieSession needs at least one secret key")
        for key in keys:
            if not isinstance(key, str | bytes) or len(key) < _MIN_KEY_LENGTH:
                raise ConfigurationError(
                    f"CookieSession secret keys must be strings of at least {_MIN_KEY_LENGTH} "
                    "characters (e.g. secrets.token_urlsafe(32))"
                )

        clock = self.clock

        class _Signer(TimestampSigner):
            # itsdangerous reads time.time(); the session's clock keeps tests sleep-free.
            def get_timestamp(self) -> int:
                return int(clock())

        # itsdangerous signs with the *last* key and tries them all, newest first.
        ordered = [k.encode() if isinstance(k, str) else k for k in reversed(keys)]
        self._serializer = URLSafeTimedSerializer(
            ordered, salt=salt, serializer=_JSON, signer=_Signer
        )

    async def read(self, cookie_value: str) -> SessionRecord | None:
        if len(cookie_value) > MAX_COOKIE_SIZE:
            return None
        try:
            payload, signed_at = self._serializer.loads(
                cookie_value, max_age=int(self.absolute_timeout), return_timestamp=True
            )
        except BadData:  # forged, tampered, expired or signed with a retired key
            return None
        if not isinstance(payload, dict):
            return None
        session_id, data, created = payload.get("i"), payload.get("d"), payload.get("c")
        if (
            not isinstance(session_id, str)
            or not isinstance(data, dict)
            or not isinstance(created, int | float)
        ):
            return None
        seen = signed_at.timestamp()
        if self.is_expired(created, seen, self.clock()):
            return None
        return SessionRecord(session_id, data, float(created), seen)

    async def write(self, record: SessionRecord) -> str:
        return self._serializer.dumps({"i": record.id, "d": record.data, "c": record.created_at})

    async def discard(self, session_id: str) -> None:
        """Nothing to delete: the data is in the cookie, which the middleware expires."""

    def __repr__(self) -> str:
        return f"CookieSession(cookie_name={self.cookie_name!r})"
