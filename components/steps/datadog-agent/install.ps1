# Install the pinned Datadog Agent MSI without an API key; leave its services stopped and manual.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$msi = $env:GI_DOWNLOAD_DATADOG_AGENT
$version = $env:GI_PIN_DATADOG_AGENT_VERSION
if (-not $msi -or -not $version) {
    throw 'datadog-agent: GI_DOWNLOAD_DATADOG_AGENT and GI_PIN_DATADOG_AGENT_VERSION are required'
}
$agent = Join-Path $env:ProgramFiles 'Datadog\Datadog Agent\bin\agent.exe'

function Get-AgentVersion {
    if (-not (Test-Path -LiteralPath $agent)) { return '' }
    # Local to this function: stderr text from a native command must not become a terminating error.
    $ErrorActionPreference = 'Continue'
    $output = & $agent version 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) { throw "datadog-agent: '$agent version' exited with $LASTEXITCODE" }
    return $output
}

if ((Get-AgentVersion) -match "Agent $([regex]::Escape($version)) ") {
    Write-Output "datadog-agent: $version already installed"
} else {
    if (-not (Test-Path -LiteralPath $msi -PathType Leaf)) {
        throw "datadog-agent: installer $msi is missing"
    }
    Assert-Signed -Path $msi -Subject 'Datadog' -Signer 'Datadog' -Step 'datadog-agent'
    # No APIKEY property: the key is configuration, written at boot by configuration management.
    Install-Msi -Path $msi -Log (New-InstallLog "datadog-agent-$version") -Step 'datadog-agent'
    if ((Get-AgentVersion) -notmatch "Agent $([regex]::Escape($version)) ") {
        throw "datadog-agent: installed Agent does not report version $version"
    }
    Write-Output "datadog-agent: $version installed"
}

$services = @(Get-Service -Name 'datadog*')
if ($services.Count -eq 0) {
    throw 'datadog-agent: no datadog* services found after install'
}
foreach ($service in $services) {
    if ($service.Status -ne 'Stopped') {
        Stop-Service -Name $service.Name -Force
    }
    if ("$($service.StartType)" -notin @('Manual', 'Disabled')) {
        Set-Service -Name $service.Name -StartupType Manual
    }
    Write-Output "datadog-agent: service $($service.Name) stopped, manual"
}

# Only when the team asked for the key in the image (api_key with bake_key: true): read on
# this machine with its own identity, checked for a key's shape, written into datadog.yaml, and
# cleared. The services stay stopped and manual.
if ($env:GI_PARAM_BAKE_KEY -eq 'true') {
    Read-GiSecret -Variable 'DD_API_KEY' -Reference $env:GI_PARAM_API_KEY
    if ($env:DD_API_KEY -notmatch '^[0-9a-fA-F]{32}$') {
        Clear-GiSecret 'DD_API_KEY'
        throw "datadog-agent: the secret $($env:GI_PARAM_API_KEY) does not hold a Datadog API key (32 hex digits)"
    }
    $config = Join-Path $env:ProgramData 'Datadog\datadog.yaml'
    $lines = @()
    if (Test-Path -LiteralPath $config) { $lines = @(Get-Content -LiteralPath $config | Where-Object { $_ -notmatch '^api_key\s*:' }) }
    Set-Content -LiteralPath $config -Value ($lines + "api_key: $($env:DD_API_KEY)") -Encoding ASCII
    Clear-GiSecret 'DD_API_KEY'
    Write-Output "datadog-agent: API key from $($env:GI_PARAM_API_KEY) written to $config (asked for: bake_key)"
}
