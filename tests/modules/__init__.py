"""Module packages that live in the test suite and plug in the way any module does (docs/modules.md)."""
