# Prove .NET Framework 4.8 or later is installed: release key >= 528040.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$minimum = 528040
$key = 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full'
if (-not (Test-Path -LiteralPath $key)) {
    throw 'dotnet-framework-48: .NET Framework 4.x is not installed (no NDP\v4\Full key)'
}
$release = [int](Get-ItemPropertyValue -LiteralPath $key -Name Release)
if ($release -lt $minimum) {
    throw "dotnet-framework-48: .NET Framework release $release is below 4.8 ($minimum)"
}
Write-Output "dotnet-framework-48: .NET Framework release $release (4.8 or later)"
