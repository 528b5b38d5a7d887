# Ensure .NET Framework 4.8+ from the operating system's own component store (Windows Server 2022+).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$minimum = 528040  # release key of .NET Framework 4.8
$key = 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full'

function Get-FrameworkRelease {
    if (-not (Test-Path -LiteralPath $key)) { return 0 }
    $item = Get-ItemProperty -LiteralPath $key
    if ($item.PSObject.Properties.Name -notcontains 'Release') { return 0 }
    return [int]$item.Release
}

$release = Get-FrameworkRelease
if ($release -ge $minimum) {
    Write-Output "dotnet-framework-48: .NET Framework release $release (4.8 or later) already present"
    exit 0
}

$build = [Environment]::OSVersion.Version.Build
if ($build -lt 20348) {
    throw "dotnet-framework-48: OS build $build does not carry .NET Framework 4.8 in the box; install the offline installer with generic-installer"
}
$result = Install-WindowsFeature -Name NET-Framework-45-Core
if (-not $result.Success) {
    throw "dotnet-framework-48: Install-WindowsFeature NET-Framework-45-Core failed (exit code $($result.ExitCode))"
}
$release = Get-FrameworkRelease
if ($release -lt $minimum) {
    throw "dotnet-framework-48: release $release after installing NET-Framework-45-Core is below $minimum"
}
Write-Output "dotnet-framework-48: .NET Framework release $release installed"
