"""Azure VM Image Builder, Compute Gallery and staging-log calls of the day-two commands.

Credentials come from azure-identity's DefaultAzureCredential (environment,
workload identity, managed identity, Azure CLI, ...). Every client accepts
azure-core keyword arguments (`transport=`, `retry_total=`), which is how the
tests put canned responses in place of the network.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from ..model.lineage import read_lineage
from .status import CloudError, NoCredentials, NotFound, Status, Throttled

DONE = {"Succeeded": True, "PartiallySucceeded": False, "Failed": False, "Canceled": False}
LOG_CONTAINER = "packerlogs"  # where Image Builder keeps customization.log in the staging storage account
STORAGE_API = "2023-05-01"
LOG_TAIL_LINES = 20
START_SKEW = timedelta(minutes=2)  # a lastRunStatus older than our start (minus clock skew) is the previous run


class AzureClients:
    """Management clients for one subscription, sharing one credential."""

    def __init__(self, subscription_id: Optional[str], credential: Any = None, **client_kwargs):
        if not subscription_id:
            raise NoCredentials("no Azure subscription: set azure-native:subscriptionId in the stack file "
                                "or AZURE_SUBSCRIPTION_ID")
        self.subscription_id = subscription_id
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self.credential = credential
        self.kwargs = client_kwargs
        self._imagebuilder = self._compute = None

    @property
    def imagebuilder(self) -> Any:
        if self._imagebuilder is None:
            from azure.mgmt.imagebuilder import ImageBuilderClient

            self._imagebuilder = ImageBuilderClient(self.credential, self.subscription_id, **self.kwargs)
        return self._imagebuilder

    @property
    def compute(self) -> Any:
        if self._compute is None:
            from azure.mgmt.compute import ComputeManagementClient

            self._compute = ComputeManagementClient(self.credential, self.subscription_id, **self.kwargs)
        return self._compute

    def blob_service(self, account_url: str) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(account_url, credential=self.credential, **self.kwargs)


def guarded(call: Callable[[], Any], what: str) -> Any:
    """Run one SDK call; authentication, throttling and service errors become the package's errors."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    try:
        return call()
    except ClientAuthenticationError as err:
        raise NoCredentials(f"Azure: no usable credentials ({_first_line(err)})") from None
    except ResourceNotFoundError as err:
        raise NotFound(f"{what}: {_first_line(err)}") from None
    except HttpResponseError as err:
        if err.status_code == 429:
            raise Throttled(f"{what}: throttled (429)") from None
        raise CloudError(f"{what}: {_first_line(err)}", code=str(err.status_code or "")) from None


def _first_line(err: Exception) -> str:
    text = getattr(err, "message", None) or str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


def find_template(clients: AzureClients, target: Any) -> Any:
    """The flavour's image template: tagged with the flavour and named `<flavour>-<content hash>`.

    Its name carries a hash of the rendered template, so it is found by listing the
    factory group's templates. While a replacement is under way two may exist:
    the newest (systemData.createdAt) wins.
    """
    azure = target.azure
    key, value = azure.flavour_tag
    pattern = re.compile(re.escape(azure.template_prefix) + "[0-9a-f]{%d}$" % azure.template_digest_length)
    templates = guarded(lambda: list(clients.imagebuilder.virtual_machine_image_templates.list_by_resource_group(
        azure.resource_group)), f"image templates in {azure.resource_group}")
    found = [t for t in templates if pattern.match(t.name or "") and (t.tags or {}).get(key) == value]
    if not found:
        raise NotFound(f"no image template of flavour {target.flavour} in resource group {azure.resource_group}; "
                       "has the stack been deployed?")
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return max(found, key=lambda t: (t.system_data.created_at if t.system_data and t.system_data.created_at
                                     else epoch))


def version_of(artifact_id: str) -> str:
    return artifact_id.rstrip("/").rsplit("/", 1)[-1]


def _parts(artifact_id: str) -> dict:
    found = re.search(r"/resourceGroups/([^/]+)/providers/Microsoft\.Compute/galleries/([^/]+)/images/([^/]+)"
                      r"/versions/([^/]+)$", artifact_id, re.IGNORECASE)
    if not found:
        return {}
    return dict(zip(("group", "gallery", "image", "version"), found.groups()))


@dataclass
class AzureBuild:
    """One run of a flavour's image template."""

    flavour: str
    target: Any
    clients: AzureClients
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    template_name: Optional[str] = None
    started_at: Optional[datetime] = None
    cloud: str = "azure"

    @property
    def label(self) -> str:
        return f"azure {self.flavour} ({self.target.azure.location})"

    @property
    def group(self) -> str:
        return self.target.azure.resource_group

    def start(self) -> str:
        template = find_template(self.clients, self.target)
        self.template_name = template.name
        self.started_at = self.now()
        # polling=False: only the POST; the follow loop reads lastRunStatus itself.
        guarded(lambda: self.clients.imagebuilder.virtual_machine_image_templates.begin_run(
            self.group, self.template_name, polling=False), f"run of image template {self.template_name}")
        return template.id or self.template_name

    def poll(self) -> Status:
        templates = self.clients.imagebuilder.virtual_machine_image_templates
        template = guarded(lambda: templates.get(self.group, self.template_name),
                           f"image template {self.template_name}")
        run = template.last_run_status
        if run is None or (run.start_time and self.started_at and run.start_time < self.started_at - START_SKEW):
            return Status(state="Queued")
        state = run.run_state or "Running"
        if state not in DONE:
            return Status(state=state, step=run.run_sub_state)
        ok = DONE[state]
        produced = self.outputs() if state in ("Succeeded", "PartiallySucceeded") else []
        failure = [] if ok else [f"lastRunStatus: {state}: {run.message or 'no message'}", *self.log(template)]
        return Status(state=state, done=True, ok=ok, produced=produced, failure=failure)

    def outputs(self) -> list[str]:
        templates = self.clients.imagebuilder.virtual_machine_image_templates
        outputs = guarded(lambda: list(templates.list_run_outputs(self.group, self.template_name)),
                          f"run outputs of {self.template_name}")
        lines = []
        for output in outputs:
            if not output.artifact_id:
                continue
            parts = _parts(output.artifact_id)
            regions = self._replicas(parts) if parts else []
            where = f" replicated to {', '.join(regions)}" if regions else ""
            lines.append(f"gallery image version {version_of(output.artifact_id)}{where} ({output.artifact_id})")
        return lines

    def _replicas(self, parts: dict) -> list[str]:
        try:
            version = guarded(lambda: self.clients.compute.gallery_image_versions.get(
                parts["group"], parts["gallery"], parts["image"], parts["version"], expand="ReplicationStatus"),
                "gallery image version")
        except (CloudError, NotFound, Throttled):
            return []
        props = version.properties
        status = props.replication_status if props else None
        if status and status.summary:
            return [f"{r.region} {r.state}" if r.state and r.state != "Completed" else r.region
                    for r in status.summary]
        profile = props.publishing_profile if props else None
        return [r.name for r in (profile.target_regions or [])] if profile else []

    def log(self, template: Any) -> list[str]:
        """Where customization.log is, and its last lines when this identity may read it."""
        group_id = template.exact_staging_resource_group
        if not group_id:
            return ["customization.log: the template reports no staging resource group"]
        group = group_id.rstrip("/").rsplit("/", 1)[-1]
        where = (f"customization.log is in the storage account of staging resource group {group}, "
                 f"container {LOG_CONTAINER}")
        try:
            return read_customization_log(self.clients, group_id, where)
        except (CloudError, NotFound, Throttled) as err:
            return [f"{where} (not read: {err}; reading it needs Storage Blob Data Reader on that group)"]


def read_customization_log(clients: AzureClients, group_id: str, where: str) -> list[str]:
    from azure.core.rest import HttpRequest

    request = HttpRequest("GET", f"{group_id}/providers/Microsoft.Storage/storageAccounts",
                          params={"api-version": STORAGE_API})
    response = guarded(lambda: clients.imagebuilder._send_request(request), "storage accounts of the staging group")
    if response.status_code >= 400:
        raise CloudError(f"listing storage accounts: HTTP {response.status_code}")
    accounts = response.json().get("value", [])
    if not accounts:
        return [f"{where}: no storage account there (deleted with a cleaned-up build?)"]
    account = accounts[0]
    endpoint = account.get("properties", {}).get("primaryEndpoints", {}).get("blob") \
        or f"https://{account['name']}.blob.core.windows.net/"
    container = clients.blob_service(endpoint).get_container_client(LOG_CONTAINER)
    blobs = guarded(lambda: [b for b in container.list_blobs() if b.name.endswith("customization.log")],
                    "customization.log")
    if not blobs:
        return [f"{where}: no customization.log yet"]
    blob = max(blobs, key=lambda b: b.last_modified or datetime.min.replace(tzinfo=timezone.utc))
    text = guarded(lambda: container.download_blob(blob.name).readall().decode("utf-8", "replace"),
                   "customization.log")
    url = f"{endpoint.rstrip('/')}/{LOG_CONTAINER}/{blob.name}"
    tail = [line for line in text.splitlines() if line.strip()][-LOG_TAIL_LINES:]
    return [f"customization.log: {url}", *(f"  {line}" for line in tail)]


# ----------------------------------------------------------------------------- images


def _version_key(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def azure_images(target: Any, clients: AzureClients, now: datetime) -> list[dict]:
    """The newest gallery image version of a flavour, one row per replica region."""
    azure = target.azure
    versions = guarded(lambda: list(clients.compute.gallery_image_versions.list_by_gallery_image(
        azure.resource_group, azure.gallery, azure.image_definition)),
        f"versions of gallery image {azure.gallery}/{azure.image_definition}")
    ready = [v for v in versions if v.properties and v.properties.provisioning_state == "Succeeded"]
    if not ready:
        return [{"flavour": target.flavour, "cloud": "azure", "region": region, "image": None,
                 "problem": "no gallery image version yet"} for region in azure.replica_regions]
    epoch = datetime.min.replace(tzinfo=timezone.utc)

    def published(v: Any) -> datetime:
        profile = v.properties.publishing_profile
        return (profile.published_date if profile and profile.published_date else epoch)

    newest = max(ready, key=published)
    eligible = [v for v in ready
                if not (v.properties.publishing_profile and v.properties.publishing_profile.exclude_from_latest)]
    latest = max(eligible, key=lambda v: _version_key(v.name)) if eligible else None
    created = published(newest)
    created = None if created == epoch else created
    profile = newest.properties.publishing_profile
    regions = [r.name for r in (profile.target_regions or [])] if profile else []
    source = newest.properties.storage_profile.source if newest.properties.storage_profile else None
    lineage = read_lineage(newest.tags)
    if not lineage["built-from"] and source is not None and getattr(source, "id", None):
        lineage["built-from"] = source.id
    pointer = {"name": f"{azure.gallery}/{azure.image_definition}/latest", "ok": latest is newest,
               "value": latest.name if latest is not None else None}
    return [{
        "flavour": target.flavour, "cloud": "azure", "region": region, "image": newest.id,
        "version": newest.name, "created": created.isoformat() if created else None,
        "age_hours": round((now - created).total_seconds() / 3600, 1) if created else None,
        "findings": None,  # Azure reports no scan counts through these APIs
        "lineage": lineage, "pointer": pointer,
    } for region in (regions or list(azure.replica_regions))]
