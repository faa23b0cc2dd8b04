"""Render: Analysis -> terminal renderables, text, JSON, HTML... Never parses packets."""
