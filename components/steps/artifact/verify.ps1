# The renderer fetched the file (S3Download / File customizer): the build and the check both prove it is in place, intact when a sha256 was given.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$destination = $env:GI_PARAM_DESTINATION
$expected = "$env:GI_PARAM_SHA256".ToLowerInvariant()
if (-not (Test-Path -LiteralPath $destination -PathType Leaf)) {
    throw "artifact: $($env:GI_PARAM_SOURCE) was not placed at $destination"
}
if ($expected) {
    $actual = (Get-FileHash -LiteralPath $destination -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($actual -ne $expected) {
        Remove-Item -LiteralPath $destination -Force
        throw "artifact: sha256 mismatch for $($env:GI_PARAM_SOURCE) (expected $expected, got $actual); file removed"
    }
}
Write-Output "artifact: $($env:GI_PARAM_SOURCE) at $destination"
