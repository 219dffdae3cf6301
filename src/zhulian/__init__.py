"""珠联 Zhulian — the Pearl River Delta S&T collaborative-innovation platform."""

__version__ = "0.1.0"

# Every record type is registered before any part of the package runs (zhulian.model finds the modules' types.py),
# so a module's types.py can be the first thing a program imports.
from zhulian import model as _model  # noqa: E402,F401
