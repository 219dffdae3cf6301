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
    # Requests per 10 seconds for each API key and for each client address without one (0: no limit).
    rate_per_key: int = 3000
    rate_per_address: int = 600
    threads: int = 8  # worker threads for the web handlers
    max_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 64 * 1024 * 1024

    def secret(self) -> str:
        """The key that signs portal sessions: made once, kept in the data folder, readable by us only."""
        path = self.data_dir / "session.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        return path.read_text(encoding="ascii").strip()

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
