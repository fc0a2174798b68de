"""The local SQLite database: engine, tables, migrations and the queries panels need."""
