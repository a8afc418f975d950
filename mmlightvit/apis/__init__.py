"""Library code behind the tools: what a script would otherwise hold."""
from .fast import fast_inference

__all__ = ['fast_inference']
