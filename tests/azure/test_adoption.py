"""A retained gallery image definition adopted again (golden-images:azure.adopt): the GalleryImage
is registered with Pulumi's `import` option and the definition's exact resource id."""
from __future__ import annotations

import pytest

from components.azure.render import image_definition_id
from components.azure.render.names import FactoryNames
from components.model.settings import AzureSettings
from tests.conftest import ProjectCopy
from tests.samples import SUBSCRIPTION_ID, UBUNTU_2204

GALLERY_IMAGE = "azure-native:compute:GalleryImage"
# Gallery Images - Create Or Update (Microsoft.Compute REST API): PUT
# /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/
# galleries/{galleryName}/images/{galleryImageName}; the resource's id is that path.
ADOPTED_ID = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/golden-images-dev/providers/Microsoft.Compute/"
              "galleries/golden_images_dev/images/ubuntu-2204")


@pytest.fixture(scope="module")
def adopted(tmp_path_factory):
    """dev with ubuntu-2204 back and its retained definition adopted."""
    project = ProjectCopy(tmp_path_factory.mktemp("adopt"))
    project.write_flavour("ubuntu-2204.yaml", UBUNTU_2204)
    config = project.config("dev")
    config["golden-images:azure"] = {**config["golden-images:azure"], "subscription_id": SUBSCRIPTION_ID,
                                     "adopt": ["ubuntu-2204"]}
    return project.plan("dev", config)


def test_the_adopted_definition_is_imported_by_its_exact_resource_id(adopted):
    [image] = [r for r in adopted.of_type(GALLERY_IMAGE) if r.name == "ubuntu-2204-image"]
    assert image.options["import"] == ADOPTED_ID
    # Still retained on delete: adopting does not make a later removal delete its versions.
    assert image.options["retainOnDelete"] is True
    # The inputs it is imported with are the flavour's: the import compares them with the existing
    # definition, whose identifier, osType, hyperVGeneration are fixed at creation.
    assert image.inputs["galleryImageName"] == "ubuntu-2204"
    assert image.inputs["identifier"] == {"publisher": "golden-images", "offer": "ubuntu-2204", "sku": "dev"}
    assert image.inputs["hyperVGeneration"] == "V2" and image.inputs["osType"] == "Linux"


def test_the_imported_id_is_the_one_the_template_distributes_into(adopted):
    # The engine keeps the id a resource was imported by; what refers to the definition follows it.
    summary = adopted.outputs["flavours"]["ubuntu-2204"]["azure"]
    assert summary["gallery_image_id"] == ADOPTED_ID
    [template] = [r for r in adopted.of_type("azure-native:virtualmachineimages:VirtualMachineImageTemplate")
                  if r.name == "ubuntu-2204-template"]
    assert template.inputs["distribute"][0]["galleryImageId"] == ADOPTED_ID


def test_only_the_adopted_flavour_is_imported(adopted):
    imported = [r.name for r in adopted.resources if "import" in r.options]
    assert imported == ["ubuntu-2204-image"]


def test_the_shipped_stacks_import_nothing(plans):
    for plan in plans.values():
        assert not [r.name for r in plan.resources if "import" in r.options]


def test_the_id_follows_the_stack_s_own_group_and_gallery_names():
    azure = AzureSettings(location="westeurope", resource_group_name="rg-images", gallery_name="images_prod")
    names = FactoryNames.for_stack("prod", azure)
    assert image_definition_id(SUBSCRIPTION_ID, names, "web") == (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/"
        "images_prod/images/web")
