"""Quality evaluations: how right the pipeline's outputs are (near duplicates, segmentation, models)."""
