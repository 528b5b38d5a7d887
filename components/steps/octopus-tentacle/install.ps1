# Install the pinned Octopus Tentacle MSI; no instance is created, so nothing is registered or running.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$msi = $env:GI_DOWNLOAD_OCTOPUS_TENTACLE
$version = $env:GI_PIN_OCTOPUS_TENTACLE_VERSION
if (-not $msi -or -not $version) {
    throw 'octopus-tentacle: GI_DOWNLOAD_OCTOPUS_TENTACLE and GI_PIN_OCTOPUS_TENTACLE_VERSION are required'
}
$exe = Join-Path $env:ProgramFiles 'Octopus Deploy\Tentacle\Tentacle.exe'

function Get-TentacleVersion {
    if (-not (Test-Path -LiteralPath $exe)) { return '' }
    return "$((Get-Item -LiteralPath $exe).VersionInfo.ProductVersion)"
}

if ((Get-TentacleVersion).StartsWith($version)) {
    Write-Output "octopus-tentacle: $version already installed"
    exit 0
}
if (-not (Test-Path -LiteralPath $msi -PathType Leaf)) {
    throw "octopus-tentacle: installer $msi is missing"
}
Assert-Signed -Path $msi -Subject 'Octopus Deploy' -Signer 'Octopus Deploy' -Step 'octopus-tentacle'
Install-Msi -Path $msi -Log (New-InstallLog "octopus-tentacle-$version") -Step 'octopus-tentacle'
$installed = Get-TentacleVersion
if (-not $installed.StartsWith($version)) {
    throw "octopus-tentacle: Tentacle.exe reports '$installed', expected $version"
}
Write-Output "octopus-tentacle: $installed installed (no instance: register at boot)"
