"""The archive layer: cold landing objects compacted into verified Parquet per source and day, restore, and the
S3 lifecycle (Intelligent-Tiering → Glacier → Deep Archive) of the archive prefix."""
