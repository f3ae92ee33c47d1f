"""Table storage: Delta tables through delta-rs locally (Unity Catalog on Databricks)."""
