"""Settings from the environment (``ZHULIAN_*``): where the data lives and which database holds it."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHULIAN_")

    data_dir: Path = Path("zhulian-data")
    database_url: str | None = None
    # The node this installation publishes as (an adcode); records created here carry it.
    node: str | None = None
    # The name this node goes by in the federation (origins, OAI identifiers); a hub without an adcode needs one.
    node_name: str | None = None
    admin_email: str = "zhulian@localhost"  # the contact OAI-PMH's Identify gives
    harvest_timeout_s: float = 30.0  # per request to a harvested node
    harvest_max_bytes: int = 64 * 1024 * 1024  # largest feed page a harvest accepts
    harvest_page: int = 500  # entries asked for per feed page
    # Requests per 10 seconds for each API key and for each client address without one (0: no limit).
    rate_per_key: int = 3000
    rate_per_address: int = 600
    # Addresses or networks of reverse proxies whose X-Forwarded-For names the real client (comma-separated).
    trusted_proxies: str = ""
    threads: int = 8  # worker threads for the web handlers
    max_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 64 * 1024 * 1024
    # Hosts that trace webhook reports may reach although they resolve to loopback or private addresses.
    trace_webhook_hosts: str = ""

    def secret(self) -> str:
        """The key that signs portal sessions: made once, kept in the data folder, readable by us only."""
        path = self.data_dir / "session.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        return path.read_text(encoding="ascii").strip()

    def node_identity(self) -> str:
        return self.node_name or self.node or "zhulian"

    def resolved_database_url(self) -> str:
        """SQLite in the data folder unless a database URL is given."""
        if not self.database_url:
            return f"sqlite:///{(self.data_dir / 'zhulian.db').resolve()}"
        return sqlalchemy_url(self.database_url)


def sqlalchemy_url(url: str) -> str:
    """``postgresql://…`` as users write it, spelled for SQLAlchemy with the psycopg 3 driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def settings() -> Settings:
    return Settings()
