"""Settings from the environment (``ZHULIAN_*``): where the data lives and which database holds it."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHULIAN_")

    data_dir: Path = Path("zhulian-data")
    database_url: str | None = None
    # The node this installation publishes as (an adcode); records created here carry it.
    node: str | None = None

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
