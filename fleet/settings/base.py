"""What every area of the settings shares: URL types, the sandbox's hosts, the nested model's base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import AnyUrl, BaseModel, ConfigDict, UrlConstraints

RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "unix"])]


WebUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["http", "https"], host_required=True)]


ANTHROPIC_API = "https://api.anthropic.com"


# A gallery on these hosts is the demo's sandbox: the demo's operator may stand.
LOOPBACK_HOSTS = frozenset({"localhost", "::1", "0.0.0.0"})


# A directory with this folder in it has a fleet of its own (``mkdir .fleet``).
PROJECT_DIR = ".fleet"


def default_database_url() -> str:
    """The embedded default: ``.fleet/fleet.db`` when the working directory has a
    ``.fleet/`` folder (a fleet of this project's own), else a SQLite file in the user's
    data directory (one fleet shared by every directory without a ``.fleet/``)."""
    project = Path.cwd() / PROJECT_DIR
    if project.is_dir():
        return f"sqlite:///{project.resolve() / 'fleet.db'}"
    data = Path(platformdirs.user_data_dir("fleet", appauthor=False))
    return f"sqlite:///{data / 'fleet.db'}"


class _Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")


OPENAI_API = "https://api.openai.com/v1"
