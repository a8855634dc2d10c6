"""Fleet's configuration, read from the environment (``FLEET_*``) once, at the edge.

Nested adapter settings use ``__``: ``FLEET_LLM__MODEL``, ``FLEET_GALLERY__URL``.

One module per area, each setting's default and bounds written once, in its area:

- ``base``: what the areas share (URL types, the sandbox's hosts, the nested model);
- ``running``: the heartbeat and the Celery tasks (``FLEET_DISPATCH__*``, ``FLEET_TASKS__*``);
- ``gallery``: the gallery and what Fleet owes people there (``FLEET_GALLERY__*``,
  ``FLEET_DISCLOSURE__*``, ``FLEET_CONSENT__*``, ``FLEET_PROVENANCE__*``);
- ``llm``: the writers' models and the embedder (``FLEET_LLM__*``, ``FLEET_EMBEDDINGS__*``);
- ``console``: the web console (``FLEET_CONSOLE__*``);
- ``taste``: target choice and the welcome of people's posts (``FLEET_TASTE__*``,
  ``FLEET_WELCOME__*``);
- ``actions``: how actions behave, memory, review mode, the holdout (``FLEET_ACTIONS__*``,
  ``FLEET_MEMORY__*``, ``FLEET_REVIEW__*``, ``FLEET_IMPACT__*``);
- ``platform``: per-agent platform tokens and the images Fleet makes itself
  (``FLEET_CREDENTIALS__*``, ``FLEET_IMAGES__*``);
- ``root``: ``Settings``, every area as a field and the checks across them;
- ``loading``: ``load_settings``, the dotenv file, and errors that name the variable.

A new area is a module here with its class, a field on ``Settings`` (``root``), and its
names exported below.
"""

from __future__ import annotations

from fleet.settings.actions import (
    REVIEWED_KINDS,
    ActionSettings,
    ImpactSettings,
    MemorySettings,
    ReviewedKind,
    ReviewSettings,
)
from fleet.settings.base import (
    ANTHROPIC_API,
    LOOPBACK_HOSTS,
    OPENAI_API,
    PROJECT_DIR,
    RedisUrl,
    WebUrl,
    default_database_url,
)
from fleet.settings.console import (
    KEY_BITS,
    SHORTEST_KEY,
    SHORTEST_PASSWORD,
    ConsoleSettings,
    key_bits,
    key_strength,
)
from fleet.settings.gallery import (
    ConsentSettings,
    DisclosureSettings,
    GallerySettings,
    ProvenanceSettings,
    SourceType,
)
from fleet.settings.llm import (
    EmbeddingSettings,
    LLMEndpoint,
    LLMSettings,
    Provider,
    ProviderSettings,
)
from fleet.settings.loading import (
    DEEPEST_JSON,
    DESTINATIONS,
    RUN_VARIABLES,
    env_file,
    json_depth,
    load_settings,
    write_env_file,
    write_run_env,
)
from fleet.settings.platform import (
    CredentialSettings,
    ImageSettings,
    ImageSourceKind,
)
from fleet.settings.root import (
    Settings,
)
from fleet.settings.running import (
    DispatchSettings,
    TaskSettings,
)
from fleet.settings.taste import (
    WEIGHT,
    TasteSettings,
    WelcomeSettings,
)

__all__ = [
    "ANTHROPIC_API",
    "DEEPEST_JSON",
    "DESTINATIONS",
    "KEY_BITS",
    "LOOPBACK_HOSTS",
    "OPENAI_API",
    "PROJECT_DIR",
    "REVIEWED_KINDS",
    "RUN_VARIABLES",
    "SHORTEST_KEY",
    "SHORTEST_PASSWORD",
    "WEIGHT",
    "ActionSettings",
    "ConsentSettings",
    "ConsoleSettings",
    "CredentialSettings",
    "DisclosureSettings",
    "DispatchSettings",
    "EmbeddingSettings",
    "GallerySettings",
    "ImageSettings",
    "ImageSourceKind",
    "ImpactSettings",
    "LLMEndpoint",
    "LLMSettings",
    "MemorySettings",
    "ProvenanceSettings",
    "Provider",
    "ProviderSettings",
    "RedisUrl",
    "ReviewSettings",
    "ReviewedKind",
    "Settings",
    "SourceType",
    "TaskSettings",
    "TasteSettings",
    "WebUrl",
    "WelcomeSettings",
    "default_database_url",
    "env_file",
    "json_depth",
    "key_bits",
    "key_strength",
    "load_settings",
    "write_env_file",
    "write_run_env",
]
