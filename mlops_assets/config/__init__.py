"""Typed configuration: YAML under configs/ validated into Pydantic models."""
