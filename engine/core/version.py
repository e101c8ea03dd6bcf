"""The engine's version, in one place (the facade, the CLI and every rendered explanation show it)."""

__version__ = "0.1.0"
