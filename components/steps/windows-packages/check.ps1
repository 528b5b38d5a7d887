# Prove each package is installed, at the pinned version when one was given.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$manager = $env:GI_PARAM_MANAGER
$packages = @("$env:GI_PARAM_PACKAGES" -split '\s+' | Where-Object { $_ })
if ($packages.Count -eq 0) { throw 'windows-packages: no packages given (parameter packages)' }
$failed = @()
if ($manager -eq 'chocolatey') {
    $choco = Join-Path $env:ProgramData 'chocolatey\bin\choco.exe'
    if (-not (Test-Path -LiteralPath $choco)) { throw "windows-packages: Chocolatey is not installed ($choco)" }
    # Chocolatey 2: `choco list` reads the local packages; --limit-output prints name|version.
    $list = @('list', '--limit-output')
    $lines = & $choco @list
    if ($LASTEXITCODE -ne 0) { throw "windows-packages: choco list failed with exit code $LASTEXITCODE" }
    $installed = @{}
    foreach ($line in $lines) {
        $name, $version = "$line" -split '\|', 2
        if ($name) { $installed[$name.ToLowerInvariant()] = $version }
    }
    foreach ($spec in $packages) {
        $name, $wanted = $spec -split '=', 2
        $have = $installed[$name.ToLowerInvariant()]
        if (-not $have) { $failed += "$name is not installed" }
        elseif ($wanted -and $have -ne $wanted) { $failed += "$name is $have, expected $wanted" }
        else { Write-Output "windows-packages: $name $have" }
    }
} else {
    $winget = Get-Command winget.exe -ErrorAction SilentlyContinue
    if (-not $winget) { throw 'windows-packages: winget is not on this image' }
    foreach ($spec in $packages) {
        $name, $wanted = $spec -split '=', 2
        $query = @('list', '--id', $name, '--exact', '--accept-source-agreements', '--disable-interactivity')
        $listing = & $winget.Source @query
        if ($LASTEXITCODE -ne 0) { $failed += "$name is not installed"; continue }
        $row = @($listing | Where-Object { "$_" -match "(^|\s)$([regex]::Escape($name))\s" })
        if ($row.Count -eq 0) { $failed += "$name is not installed" }
        elseif ($wanted -and -not ($row[0] -match "\s$([regex]::Escape($wanted))(\s|$)")) { $failed += "$name is not at $wanted ($($row[0]))" }
        else { Write-Output "windows-packages: $($row[0])" }
    }
}
if ($failed.Count -gt 0) { throw "windows-packages: $($failed -join '; ')" }
