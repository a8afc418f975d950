"""Library code behind the tools: what a script would otherwise hold."""
