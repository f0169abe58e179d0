"""Schema migrations of the store (Alembic): ``versions/`` holds one revision per schema change; a store is brought
to the head revision when it is opened (``evoforge.storage._engine.migrate``)."""
