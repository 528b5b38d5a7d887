# Prove the pinned .NET runtime(s) are installed and runnable, and the IIS module is there when IIS is.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$version = $env:GI_PIN_DOTNET_VERSION
$kind = $env:GI_PARAM_KIND
$dotnet = Join-Path $env:ProgramFiles 'dotnet\dotnet.exe'
if (-not (Test-Path -LiteralPath $dotnet -PathType Leaf)) {
    throw "dotnet-runtime: $dotnet is missing"
}
$runtimes = @(& $dotnet --list-runtimes)
if ($LASTEXITCODE -ne 0) {
    throw "dotnet-runtime: 'dotnet --list-runtimes' exited with $LASTEXITCODE"
}
$expected = @("Microsoft.NETCore.App $version")
if ($kind -eq 'hosting-bundle') {
    $expected += "Microsoft.AspNetCore.App $version"
}
foreach ($runtime in $expected) {
    if (-not ($runtimes | Where-Object { $_.StartsWith("$runtime ") })) {
        throw "dotnet-runtime: $runtime is not installed (found: $($runtimes -join '; '))"
    }
    Write-Output "dotnet-runtime: $runtime present"
}
if ($kind -eq 'hosting-bundle' -and (Test-Path -LiteralPath (Join-Path $env:windir 'System32\inetsrv\w3wp.exe'))) {
    $module = Join-Path $env:windir 'System32\inetsrv\aspnetcorev2.dll'
    if (-not (Test-Path -LiteralPath $module)) {
        throw 'dotnet-runtime: IIS is installed but the ASP.NET Core Module (aspnetcorev2.dll) is not; install IIS before this step'
    }
    Write-Output 'dotnet-runtime: ASP.NET Core Module present in IIS'
}
