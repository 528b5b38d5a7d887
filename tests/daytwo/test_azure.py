"""make build and make images on Azure against an azure-core transport double."""
from datetime import datetime, timedelta, timezone

from azure.identity import CredentialUnavailableError
from azure.mgmt.compute.models import GalleryImageVersion
from azure.mgmt.imagebuilder.models import ImageTemplate, ImageTemplateListResult, RunOutputCollection

from components.daytwo.__main__ import main

from .doubles import (
    ROOT,
    SUBSCRIPTION,
    Clock,
    FakeCredential,
    Transport,
    azure_clients_for,
    azure_error,
    captured,
    ok,
    page_of,
    text,
)

GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images-dev"
TEMPLATES = f"{GROUP}/providers/Microsoft.VirtualMachineImages/imageTemplates"
NAME = "ubuntu-2404-0123456789"
STAGING = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images-dev-staging-{NAME}"
VERSIONS = f"{GROUP}/providers/Microsoft.Compute/galleries/golden_images_dev/images/ubuntu-2404/versions"
NOW = datetime.now(timezone.utc)


def template(name=NAME, flavour="ubuntu-2404", run=None, created="2026-12-01T10:00:00Z"):
    properties = {
        "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                   "sku": "server", "version": "latest"},
        "distribute": [{"type": "SharedImage", "runOutputName": flavour,
                        "galleryImageId": f"{GROUP}/providers/Microsoft.Compute/galleries/golden_images_dev/images/"
                                          f"{flavour}"}],
        "provisioningState": "Succeeded",
        "exactStagingResourceGroup": STAGING,
    }
    if run:
        properties["lastRunStatus"] = run
    return {"id": f"{TEMPLATES}/{name}", "name": name, "type": "Microsoft.VirtualMachineImages/imageTemplates",
            "location": "westeurope", "tags": {"golden-images:flavour": flavour, "golden-images:version": "1.0.0"},
            "systemData": {"createdAt": created},
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {
                f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}}},
            "properties": properties}


def status(state, sub_state=None, message=""):
    run = {"startTime": (NOW + timedelta(seconds=5)).isoformat(), "runState": state, "message": message}
    if sub_state:
        run["runSubState"] = sub_state
    if state in ("Succeeded", "Failed"):
        run["endTime"] = (NOW + timedelta(minutes=40)).isoformat()
    return run


def listing():
    # A layer's template shares the prefix: it must not be taken for ubuntu-2404's.
    return ok({"value": [template("ubuntu-2404-iis-0123456789", "ubuntu-2404-iis"),
                         template("ubuntu-2404-aaaaaaaaaa", created="2026-11-01T10:00:00Z"), template()]})


def transport_for(*gets):
    transport = Transport()
    transport.add("GET", r"/imageTemplates\?api-version=2024-02-01$", listing(),
                  model=ImageTemplateListResult)
    transport.add("POST", rf"/imageTemplates/{NAME}/run\?", ok(None, 202, {
        "Azure-AsyncOperation": "https://management.azure.com/subscriptions/x/operations/1"}))
    transport.add("GET", rf"/imageTemplates/{NAME}\?", *gets, model=ImageTemplate)
    return transport


def run(args, transport, credential=None):
    console = captured()
    clock = Clock()
    code = main(args, root=ROOT, console=console, azure_clients=azure_clients_for(transport, credential),
                clock=clock, sleep=clock.sleep, now=NOW)
    return code, text(console)


def test_a_run_that_succeeds_reports_the_gallery_version_and_its_regions():
    transport = transport_for(ok(template(run=status("Running", "Customizing"))),
                              ok(template(run=status("Running", "Distributing"))),
                              ok(template(run=status("Succeeded"))))
    transport.add("GET", rf"/imageTemplates/{NAME}/runOutputs\?", ok({"value": [{
        "id": f"{TEMPLATES}/{NAME}/runOutputs/ubuntu-2404", "name": "ubuntu-2404",
        "properties": {"artifactId": f"{VERSIONS}/1.0.7", "provisioningState": "Succeeded"}}]}),
        model=RunOutputCollection)
    transport.add("GET", r"/versions/1\.0\.7\?.*expand=ReplicationStatus", ok({
        "id": f"{VERSIONS}/1.0.7", "name": "1.0.7", "location": "westeurope",
        "properties": {"provisioningState": "Succeeded",
                       "publishingProfile": {"targetRegions": [{"name": "West Europe"}]},
                       "replicationStatus": {"aggregatedState": "Completed", "summary": [
                           {"region": "West Europe", "state": "Completed", "progress": 100}]}}}),
        model=GalleryImageVersion)
    code, out = run(["build", "--flavour", "ubuntu-2404", "--cloud", "azure"], transport)
    assert code == 0, out
    assert "azure ubuntu-2404 (westeurope): Running - Customizing" in out
    assert "azure ubuntu-2404 (westeurope): Running - Distributing" in out
    assert f"produced gallery image version 1.0.7 replicated to West Europe ({VERSIONS}/1.0.7)" in out
    assert ("POST", f"https://management.azure.com{TEMPLATES}/{NAME}/run?api-version=2024-02-01") in \
        transport.requests


def test_a_failed_run_says_lastRunStatus_and_where_the_log_is_when_it_may_not_be_read():
    transport = transport_for(ok(template(run=status(
        "Failed", message="Failed while waiting for packerizer: Microservice has failed: Failed while processing "
                          "request: Error when executing packerizer: Packer build command has failed: exit status 1. "
                          "During the image build, a failure has occurred."))))
    # Unchecked: azure-mgmt-storage is not installed (the code reads this list with a raw request).
    transport.add("GET", r"/providers/Microsoft.Storage/storageAccounts\?", ok({"value": [{
        "id": f"{STAGING}/providers/Microsoft.Storage/storageAccounts/abcdef0123",
        "name": "abcdef0123", "properties": {"primaryEndpoints": {"blob": "https://abcdef0123.blob.core.windows.net/"}}}]}))
    transport.add("GET", r"abcdef0123\.blob\.core\.windows\.net/packerlogs\?", (403, (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>'
        "<Message>This request is not authorized to perform this operation using this permission.</Message>"
        "</Error>"), {"Content-Type": "application/xml", "x-ms-error-code": "AuthorizationPermissionMismatch"}))
    code, out = run(["build", "--flavour", "ubuntu-2404", "--cloud", "azure"], transport)
    assert code == 1
    assert "lastRunStatus: Failed: Failed while waiting for packerizer" in out
    assert (f"customization.log is in the storage account of staging resource group golden-images-dev-staging-{NAME}, "
            "container packerlogs (not read:") in out
    assert "Storage Blob Data Reader" in out


def test_a_failed_run_shows_the_tail_of_customization_log_when_permitted(monkeypatch):
    # The storage SDK's download path is not driven through the transport double: the blob
    # container is a stand-in here (the 403 case above goes through the real storage client).
    from types import SimpleNamespace

    from components.daytwo.azure import AzureClients

    log = b"PACKER OUT ==> azure-arm: Running script\nPACKER ERR E: Unable to locate package nginx-full\n"
    blob = SimpleNamespace(name="4c6e1a2b-run/customization.log", last_modified=NOW)
    container = SimpleNamespace(list_blobs=lambda: [blob],
                                download_blob=lambda name: SimpleNamespace(readall=lambda: log))
    seen = []
    monkeypatch.setattr(AzureClients, "blob_service", lambda self, url: seen.append(url) or SimpleNamespace(
        get_container_client=lambda name: container))
    transport = transport_for(ok(template(run=status("Failed", message="exit status 1"))))
    # Unchecked: azure-mgmt-storage is not installed (the code reads this list with a raw request).
    transport.add("GET", r"/providers/Microsoft.Storage/storageAccounts\?", ok({"value": [{
        "name": "abcdef0123", "properties": {"primaryEndpoints": {"blob": "https://abcdef0123.blob.core.windows.net/"}}}]}))
    code, out = run(["build", "--flavour", "ubuntu-2404", "--cloud", "azure"], transport)
    assert code == 1
    assert seen == ["https://abcdef0123.blob.core.windows.net/"]
    assert "customization.log: https://abcdef0123.blob.core.windows.net/packerlogs/4c6e1a2b-run/customization.log" in out
    assert "PACKER ERR E: Unable to locate package nginx-full" in out


def test_throttled_azure_polls_back_off():
    transport = transport_for(azure_error(429, "TooManyRequests", "slow down"), ok(template(run=status("Succeeded"))))
    transport.add("GET", rf"/imageTemplates/{NAME}/runOutputs\?", ok({"value": []}), model=RunOutputCollection)
    code, out = run(["build", "--flavour", "ubuntu-2404", "--cloud", "azure"], transport)
    assert code == 0, out


def test_no_azure_credentials_is_one_line_and_exit_2():
    transport = Transport()
    credential = FakeCredential(CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token"))
    code, out = run(["build", "--flavour", "ubuntu-2404", "--cloud", "azure"], transport, credential)
    assert code == 2
    assert out.strip().count("\n") == 0 and "Traceback" not in out
    assert out.startswith("error: Azure: no usable credentials")


def test_images_reads_newest_version_lineage_and_latest():
    transport = Transport()
    transport.add("GET", r"/images/ubuntu-2404/versions\?", ok({"value": [
        {"id": f"{VERSIONS}/1.0.6", "name": "1.0.6", "location": "westeurope",
         "tags": {"golden-images:flavour": "ubuntu-2404"},
         "properties": {"provisioningState": "Succeeded", "publishingProfile": {
             "publishedDate": (NOW - timedelta(days=9)).isoformat(), "targetRegions": [{"name": "West Europe"}]}}},
        {"id": f"{VERSIONS}/1.0.7", "name": "1.0.7", "location": "westeurope",
         "tags": {"golden-images:flavour": "ubuntu-2404", "golden-images:version": "1.0.0",
                  "golden-images:built-from": "Canonical:ubuntu-24_04-lts:server:latest",
                  "golden-images:source-commit": "0123456789abcdef0123456789abcdef01234567"},
         "properties": {"provisioningState": "Succeeded", "publishingProfile": {
             "publishedDate": (NOW - timedelta(days=2)).isoformat(), "targetRegions": [{"name": "West Europe"}]}}}]}),
        model=page_of(GalleryImageVersion))
    for flavour in ("rhel-9-stig", "windows-2022-core-dotnet", "windows-2022-app-server", "windows-2022-core-dotnet-iis",
                    "win11-avd"):
        transport.add("GET", rf"/images/{flavour}/versions\?", ok({"value": []}), model=page_of(GalleryImageVersion))
    console = captured(width=250)
    code = main(["images", "--cloud", "azure", "--json"], root=ROOT, console=console,
                azure_clients=azure_clients_for(transport), now=NOW)
    import json

    rows = json.loads(text(console))
    ubuntu = [r for r in rows if r["flavour"] == "ubuntu-2404"]
    assert len(ubuntu) == 1 and ubuntu[0]["version"] == "1.0.7" and ubuntu[0]["region"] == "West Europe"
    assert ubuntu[0]["lineage"]["built-from"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert ubuntu[0]["pointer"]["ok"] is True and ubuntu[0]["stale"] is False
    assert ubuntu[0]["age_hours"] == 48.0
    assert code == 1  # the other flavours have no image yet
    assert any(r.get("problem") == "no gallery image version yet" for r in rows)


def test_a_canned_body_the_sdk_model_does_not_fit_is_refused():
    import pytest

    misspelt = template()
    misspelt["properties"]["lastRunStatuss"] = status("Succeeded")
    with pytest.raises(AssertionError, match=r"\.properties\.lastRunStatuss: not in the model"):
        Transport().add("GET", rf"/imageTemplates/{NAME}\?", ok(misspelt), model=ImageTemplate)
    listed = {"value": [{"name": "1.0.7", "location": "westeurope", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "West Europe", "regionalReplicaCont": 1}]}}}]}
    with pytest.raises(AssertionError, match=r"targetRegions\[0\]\.regionalReplicaCont: not in the model"):
        Transport().add("GET", r"/versions\?", ok(listed), model=page_of(GalleryImageVersion))
    with pytest.raises(AssertionError, match="not an ARM error body"):
        Transport().add("GET", r"/x\?", (404, {"code": "NotFound"}, {}))
