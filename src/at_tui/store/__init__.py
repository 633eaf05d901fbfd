"""Local SQLite storage: connection settings, migrations, visits."""
