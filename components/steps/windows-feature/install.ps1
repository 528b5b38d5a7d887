# Install Windows roles and features by name; already installed features are left as they are.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$features = @($env:GI_PARAM_FEATURES -split '\s+' | Where-Object { $_ })
if ($features.Count -eq 0) {
    throw 'windows-feature: no features given (parameter features)'
}
$unknown = @($features | Where-Object { $null -eq (Get-WindowsFeature -Name $_) })
if ($unknown.Count -gt 0) {
    throw "windows-feature: unknown feature(s): $($unknown -join ', ') (see Get-WindowsFeature)"
}

$arguments = @{ Name = $features }
if ($env:GI_PARAM_INCLUDE_MANAGEMENT_TOOLS -eq 'true') {
    $arguments.IncludeManagementTools = $true
}
$result = Install-WindowsFeature @arguments
if (-not $result.Success) {
    throw "windows-feature: Install-WindowsFeature failed for $($features -join ', ') (exit code $($result.ExitCode))"
}
foreach ($item in $result.FeatureResult) {
    Write-Output "windows-feature: installed $($item.Name)"
}
if ("$($result.RestartNeeded)" -eq 'Yes') {
    Write-Output 'windows-feature: a restart is needed to finish; the check fails unless the flavour sets options.reboot_after: true'
}
Write-Output "windows-feature: $($features -join ', ') present"
