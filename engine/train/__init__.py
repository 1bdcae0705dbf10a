"""Training: LoRA / QLoRA / full fine-tuning of causal and encoder models.

recipe (TrainRecipe) · tasks (instruction, text, classification) · losses (loss at labelled
positions, weighted) · weights (re-weighting by group) · build (model, optimizer) ·
loop (train) · run_state (steps, eval, early stopping) · checkpoints (atomic, resumable) ·
memory_estimate · preflight · search · job (the ``train`` job) · multi_gpu (accelerate config) ·
schedule (steps, file names) · lora_targets (modules LoRA adapts) · format (chat-template encoding)
· chat_template (the model's own or the plain fallback) · kernels (TF32, Liger on CUDA) ·
recommend (method and batch that fit) · launch (several GPUs or machines: accelerate/torchrun)
· worker (one launched process) · distributed (ranks, DDP/FSDP, collectives) · cluster (a
machine's share of a run on several machines: its network opening, interface and connection
watch).
"""
