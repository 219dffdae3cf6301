"""珠联 Zhulian — the Pearl River Delta S&T collaborative-innovation platform."""

__version__ = "0.1.0"
