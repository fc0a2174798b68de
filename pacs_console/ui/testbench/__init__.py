"""The Tests panel's tabs: verify, query, retrieve, store, capabilities and history."""
