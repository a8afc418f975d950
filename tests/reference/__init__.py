"""Test-only reference implementations of the official models."""
