"""Data stage: read, validate, clean and split training records; seeded demo sets."""
