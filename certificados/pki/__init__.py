"""X.509 work of the platform (cryptography only, never the openssl CLI)."""
