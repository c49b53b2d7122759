"""Describe what the health probes answer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from everfresh.web.responses import Answer


class Health(Answer):
    """The process is alive."""

    status: Literal["ok"]


class Readiness(Answer):
    """Every dependency answered."""

    status: Literal["ok"]
    checks: dict[str, str] = Field(
        examples=[
            {
                "database": "ok",
                "redis_broker": "ok",
                "redis_stream_leases": "ok",
                "redis_denylist": "ok",
                "redis_login_limits": "ok",
            }
        ]
    )
