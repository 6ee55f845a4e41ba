"""The dialer engine: domain model, PostgreSQL store, campaign runner, command line."""
