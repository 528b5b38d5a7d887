"""Azure VM Image Builder: pure renderers (render/, one module per thing rendered) and the components that create them."""
from .shared import AzureSharedInfrastructure
from .template import AzureImageTemplate

__all__ = ["AzureImageTemplate", "AzureSharedInfrastructure"]
