"""Create the Flask extensions unbound; `create_app` binds them to an app."""

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()
migrate = Migrate()
# Limits only the routes decorated in auth/ratelimits.py. The moving window allows no burst
# at a window's edge; if Redis is down, each worker keeps counting in memory instead. A
# request whose Redis call fails after another one already switched the worker to memory
# is let through uncounted rather than answered 500 (seen with a link slower than the timeout).
limiter = Limiter(
    get_remote_address,
    strategy="moving-window",
    in_memory_fallback_enabled=True,
    swallow_errors=True,
)
