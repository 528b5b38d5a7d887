# Proves the file (or the folder, holding files) is at its destination.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$destination = $env:GI_PARAM_DESTINATION
if ($env:GI_ASSET_SOURCE_KIND -eq 'file') {
    if (-not (Test-Path -LiteralPath $destination -PathType Leaf)) { throw "file check: $destination is not a file" }
    Write-Output "file check: $destination present"
} else {
    if (-not (Test-Path -LiteralPath $destination -PathType Container)) { throw "file check: $destination is not a folder" }
    $count = @(Get-ChildItem -LiteralPath $destination -Recurse -File -Force).Count
    if ($count -eq 0) { throw "file check: $destination holds no files" }
    Write-Output "file check: $destination present ($count file(s))"
}
