"""Built-in checks, one module a check. Shipped as ``drsdoctor.checks`` and loaded like third-party ones."""
