# Prove the Agent is at the pinned version, its services are stopped and manual, and no API key is baked.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$version = $env:GI_PIN_DATADOG_AGENT_VERSION
$agent = Join-Path $env:ProgramFiles 'Datadog\Datadog Agent\bin\agent.exe'
if (-not (Test-Path -LiteralPath $agent -PathType Leaf)) {
    throw "datadog-agent: $agent is missing"
}
# In a child scope: stderr text from a native command must not become a terminating error.
$output = & { $ErrorActionPreference = 'Continue'; & $agent version 2>&1 | Out-String }
if ($LASTEXITCODE -ne 0) {
    throw "datadog-agent: '$agent version' exited with $LASTEXITCODE"
}
if ($output -notmatch "Agent $([regex]::Escape($version)) ") {
    throw "datadog-agent: expected Agent $version, got: $output"
}
Write-Output "datadog-agent: Agent $version installed"

$services = @(Get-Service -Name 'datadog*')
if ($services.Count -eq 0) {
    throw 'datadog-agent: no datadog* services found'
}
foreach ($service in $services) {
    if ($service.Status -ne 'Stopped' -or "$($service.StartType)" -notin @('Manual', 'Disabled')) {
        throw "datadog-agent: service $($service.Name) is $($service.Status)/$($service.StartType), expected Stopped and Manual or Disabled"
    }
}
Write-Output "datadog-agent: $($services.Count) service(s) stopped and manual"

$config = Join-Path $env:ProgramData 'Datadog\datadog.yaml'
if ($env:GI_PARAM_BAKE_KEY -eq 'true') {
    # Asked for: a key-shaped api_key (never printed).
    if (-not (Test-Path -LiteralPath $config) -or -not (Select-String -LiteralPath $config -Pattern '^api_key: [0-9a-fA-F]{32}$' -Quiet)) {
        throw "datadog-agent: $config has no API key although bake_key is true"
    }
    Write-Output 'datadog-agent: API key in the image, as asked (bake_key)'
    exit 0
}
if ((Test-Path -LiteralPath $config) -and (Select-String -LiteralPath $config -Pattern '^\s*api_key\s*:\s*\S' -Quiet)) {
    throw "datadog-agent: $config contains an api_key; keys are configured at boot, never baked"
}
Write-Output 'datadog-agent: no API key in the image'
