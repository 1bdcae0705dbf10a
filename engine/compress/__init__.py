"""Compression: merge of adapters, quantized loading, sizes."""
