"""The demo pipeline: a recipe → every stage's job, in order, on the bundled models."""
