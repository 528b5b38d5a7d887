"""golden-images: golden image pipelines as code."""
