"""EC2 Image Builder: pure renderers (render.py) and the components that create them."""
from .pipeline import AwsImagePipeline
from .shared import AwsSharedInfrastructure

__all__ = ["AwsImagePipeline", "AwsSharedInfrastructure"]
