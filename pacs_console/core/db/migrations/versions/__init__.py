"""One Alembic revision a file, 0001 to the newest (light.SCHEMA_HEAD names it); never edited once released."""
