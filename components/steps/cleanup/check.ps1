# Prove the build's leftovers are gone.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (Test-Path -LiteralPath 'C:\golden-images') {
    throw 'cleanup: C:\golden-images (downloads and logs) is still in the image'
}
$download = Join-Path $env:windir 'SoftwareDistribution\Download'
if (Test-Path -LiteralPath $download) {
    $files = @(Get-ChildItem -LiteralPath $download -Recurse -File -Force)
    if ($files.Count -gt 0) {
        throw "cleanup: $($files.Count) file(s) left in $download"
    }
}
Write-Output 'cleanup: no downloads, installer logs or update cache left'
