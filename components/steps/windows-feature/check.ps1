# Prove every requested feature is installed (not merely pending a restart).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$features = @($env:GI_PARAM_FEATURES -split '\s+' | Where-Object { $_ })
if ($features.Count -eq 0) {
    throw 'windows-feature: no features given (parameter features)'
}
$failed = @()
foreach ($name in $features) {
    $feature = Get-WindowsFeature -Name $name
    if ($null -eq $feature) {
        $failed += "$name (unknown feature)"
    } elseif ("$($feature.InstallState)" -ne 'Installed') {
        $failed += "$name ($($feature.InstallState))"
    } else {
        Write-Output "windows-feature: $name is installed"
    }
}
if ($failed.Count -gt 0) {
    throw "windows-feature: not installed: $($failed -join ', '); InstallPending means the step needs options.reboot_after: true"
}
