# Places a build asset (a file or folder of the repository) at GI_PARAM_DESTINATION after
# verifying the archive's sha256 (S3Download on AWS verifies nothing).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$archive = $env:GI_ASSET_SOURCE
$expected = $env:GI_ASSET_SOURCE_SHA256
$kind = if ($env:GI_ASSET_SOURCE_KIND) { $env:GI_ASSET_SOURCE_KIND } else { 'directory' }
$destination = $env:GI_PARAM_DESTINATION
if (-not [System.IO.Path]::IsPathRooted($destination)) { throw "file: destination '$destination' is not an absolute path" }
if (-not (Test-Path -LiteralPath $archive -PathType Leaf)) { throw "file: the archive $archive was not downloaded" }
$actual = (Get-FileHash -LiteralPath $archive -Algorithm SHA256).Hash.ToLowerInvariant()
if ($actual -ne $expected) { throw "file: the archive's sha256 is $actual, expected $expected" }

$work = Join-Path $env:TEMP ('golden-images-file-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Force -Path $work | Out-Null
try {
    # tar.exe ships with Windows Server 2019 and later and reads .tar.gz.
    & "$env:SystemRoot\System32\tar.exe" -xzf $archive -C $work
    if ($LASTEXITCODE -ne 0) { throw "file: tar failed with exit code $LASTEXITCODE" }
    if ($kind -eq 'file') {
        $entries = @(Get-ChildItem -LiteralPath $work -Force)
        if ($entries.Count -ne 1 -or $entries[0].PSIsContainer) { throw 'file: the archive does not hold exactly one file' }
        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $destination) | Out-Null
        Copy-Item -LiteralPath $entries[0].FullName -Destination $destination -Force
    } else {
        New-Item -ItemType Directory -Force -Path $destination | Out-Null
        Copy-Item -Path (Join-Path $work '*') -Destination $destination -Recurse -Force
    }
} finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
Remove-Item -LiteralPath $archive -Force
Write-Output "file: $env:GI_PARAM_SOURCE placed at $destination (sha256 $expected)"
