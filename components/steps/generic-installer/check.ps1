# Prove the installer left behind what it promised (parameter creates).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$creates = $env:GI_PARAM_CREATES
if (-not $creates) {
    throw 'generic-installer: parameter creates is required'
}
if (-not (Test-Path -LiteralPath $creates)) {
    throw "generic-installer: $($env:GI_PARAM_NAME) is not installed: $creates does not exist"
}
Write-Output "generic-installer: $($env:GI_PARAM_NAME) installed ($creates exists)"
