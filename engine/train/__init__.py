"""Training: LoRA / QLoRA / full fine-tuning of causal and encoder models.

recipe (TrainRecipe) · tasks (instruction, text, classification) · losses (loss at labelled
positions, weighted) · weights (re-weighting by group) · build (model, optimizer) ·
loop (train) · run_state (steps, eval, early stopping) · checkpoints (atomic, resumable) ·
memory_estimate · preflight · search · job (the ``train`` job) · multi_gpu (accelerate config) ·
lora (train_lora, the demo's entry point) · format (chat-template encoding).
"""
