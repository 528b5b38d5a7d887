"""Azure VM Image Builder: pure renderers (render.py) and the components that create them."""
from .shared import AzureSharedInfrastructure
from .template import AzureImageTemplate

__all__ = ["AzureImageTemplate", "AzureSharedInfrastructure"]
