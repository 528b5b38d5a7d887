"""Gallery image definitions."""
from __future__ import annotations

from components.azure import render
from tests.azure.samples import flavour, settings


class TestImageDefinition:
    def test_gen2_source_is_trusted_launch_supported(self):
        s = settings()
        names = render.FactoryNames.for_stack("dev", s.azure)
        definition = render.render_image_definition(flavour("windows"), s.azure, names)
        assert definition["hyperVGeneration"] == "V2"
        assert definition["features"] == [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
        assert definition["osType"] == "Windows" and definition["osState"] == "Generalized"
        assert definition["identifier"] == {"publisher": "golden-images", "offer": "test-windows", "sku": "dev"}

    def test_gen1_source_has_no_trusted_launch(self):
        s = settings()
        gen1 = flavour("windows", base_image={"azure": {
            "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-core"}})
        definition = render.render_image_definition(gen1, s.azure, render.FactoryNames.for_stack("dev", s.azure))
        assert definition["hyperVGeneration"] == "V1" and "features" not in definition


