"""The materialized views in the store's own database: the fold of the events into statement,
correction, definition and stream rows (`fold`), the bitemporal step tables kept from them
(`tables`), and the store that catches them up, reads and checks them (`store`)."""
