"""Offline-first helpdesk sync: outbox, adapters, runner, connectivity monitor, log bundles."""
