"""PHI/PII detection and redaction (HIPAA Safe Harbor identifiers held in text, legal case numbers)."""
