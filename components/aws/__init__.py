"""EC2 Image Builder: pure renderers (the render package) and the components that create them.

The components are imported on first use, so `components.aws.render` stays
importable without Pulumi.
"""

__all__ = ["AwsImagePipeline", "AwsSharedInfrastructure"]


def __getattr__(name: str):
    if name == "AwsImagePipeline":
        from .pipeline import AwsImagePipeline

        return AwsImagePipeline
    if name == "AwsSharedInfrastructure":
        from .shared import AwsSharedInfrastructure

        return AwsSharedInfrastructure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
