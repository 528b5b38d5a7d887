"""Azure Image Builder customizer names of a flavour's several script, file and artifact steps:
AIB names each customizer in the build's customization.log by its `name`, so each says which
use it belongs to."""
from __future__ import annotations

from components.azure.render.customizers import render_customizers, render_validations
from tests.contract.azure_samples import found, valid_body
from tests.samples import NAMED_STEPS_FILES, NAMED_STEPS_FLAVOUR, NAMED_STEPS_STACK
from tests.steps.flavour_file import build

ASSET_STORE = "https://contosoassets.blob.core.windows.net/build-assets"
BUILD_VM = "11111111-2222-3333-4444-555555555555"


def _rendered(tmp_path):
    steps = build(tmp_path, NAMED_STEPS_FLAVOUR, NAMED_STEPS_FILES, **NAMED_STEPS_STACK).steps_on("azure")
    return steps, render_customizers(steps, asset_store=ASSET_STORE, build_vm_client_id=BUILD_VM)


def test_each_customizer_names_its_use(tmp_path):
    _, customizers = _rendered(tmp_path)
    names = [c["name"] for c in customizers]
    assert [n for n in names if n.endswith("-install")] == [
        "01-os-updates-install",  # a step used once: no use name
        "02-script-crypto-and-banner-install",
        "03-script-inline-2-install",
        "04-script-nginx-tuning-install",
        "05-file-chrony-conf-install",
        "06-file-corp-install",
        "07-artifact-agent-2-1-0-tar-gz-install",
    ]
    # The downloads of a use carry its name too: which file's upload failed is in the log line.
    assert "05-file-chrony-conf-download-asset-source" in names
    assert "07-artifact-agent-2-1-0-tar-gz-fetch" in names
    assert len(set(names)) == len(names)


def test_validations_name_their_use(tmp_path):
    steps, _ = _rendered(tmp_path)
    names = [v["name"] for v in render_validations(steps, asset_store=ASSET_STORE)]
    assert "02-script-crypto-and-banner-check" in names
    assert "05-file-chrony-conf-check" in names
    assert len(set(names)) == len(names)


def test_the_named_customizers_satisfy_the_template_model(tmp_path):
    """azure-mgmt-imagebuilder's ImageTemplateCustomizer takes `name` as a string."""
    steps, customizers = _rendered(tmp_path)
    body = valid_body()
    body["properties"]["customize"] = customizers
    body["properties"]["validate"] = {"inVMValidations": render_validations(steps, asset_store=ASSET_STORE)}
    assert found(body) == set()
