"""One module per command (or command group); cli.py imports a module only when its command runs."""
