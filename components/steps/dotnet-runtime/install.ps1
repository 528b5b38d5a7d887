# Install the pinned .NET runtime from the installer the renderer downloaded and verified (sha256).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$installer = $env:GI_DOWNLOAD_DOTNET
$version = $env:GI_PIN_DOTNET_VERSION
$channel = $env:GI_PARAM_VERSION
$kind = $env:GI_PARAM_KIND
if (-not $installer -or -not $version -or -not $channel -or -not $kind) {
    throw 'dotnet-runtime: GI_DOWNLOAD_DOTNET, GI_PIN_DOTNET_VERSION, GI_PARAM_VERSION and GI_PARAM_KIND are required'
}
if (-not $version.StartsWith("$channel.")) {
    throw "dotnet-runtime: pinned version $version is not in channel $channel (versions.yaml)"
}
if (-not (Test-Path -LiteralPath $installer -PathType Leaf)) {
    throw "dotnet-runtime: installer $installer is missing"
}

$shared = Join-Path $env:ProgramFiles 'dotnet\shared'
$frameworks = @('Microsoft.NETCore.App')
if ($kind -eq 'hosting-bundle') {
    $frameworks += 'Microsoft.AspNetCore.App'
}
$missing = @($frameworks | Where-Object { -not (Test-Path -LiteralPath (Join-Path $shared "$_\$version")) })
$iis = Test-Path -LiteralPath (Join-Path $env:windir 'System32\inetsrv\w3wp.exe')
$module = Join-Path $env:windir 'System32\inetsrv\aspnetcorev2.dll'
$needsModule = $kind -eq 'hosting-bundle' -and $iis -and -not (Test-Path -LiteralPath $module)
if ($missing.Count -eq 0 -and -not $needsModule) {
    Write-Output "dotnet-runtime: $kind $version already installed"
    exit 0
}

Assert-Signed -Path $installer -Subject '(^|, )CN=Microsoft Corporation(,|$)' -Signer 'Microsoft Corporation' -Step 'dotnet-runtime'

$log = New-InstallLog "dotnet-$kind-$version"
$action = if ($missing.Count -eq 0) { '/repair' } else { '/install' }
$process = Start-Process -FilePath $installer -ArgumentList @($action, '/quiet', '/norestart', '/log', "`"$log`"") -Wait -PassThru
switch ($process.ExitCode) {
    0 { Write-Output "dotnet-runtime: $kind $version installed" }
    3010 { Write-Output "dotnet-runtime: $kind $version installed; Windows asks for a restart (set options.reboot_after: true to restart here)" }
    default {
        if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Tail 40 | Write-Output }
        throw "dotnet-runtime: installer exited with $($process.ExitCode)"
    }
}
