"""Stage steps the pipeline strings together; each writes its outputs to the store."""
