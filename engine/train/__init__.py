"""Training: causal-LM SFT with LoRA (format, recipe, loop)."""
