# Prove every setting of the Windows CIS Level 1 baseline is in force.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# The setting tables ($systemAccess, $registry, $audit, $firewall) come from settings.ps1.

$failures = @()
$export = Join-Path $env:TEMP 'golden-images-baseline-check.inf'
& secedit.exe /export /cfg $export /areas SECURITYPOLICY /quiet
if ($LASTEXITCODE -ne 0) { throw "windows-baseline: secedit /export exited with $LASTEXITCODE" }
$current = @{}
foreach ($line in Get-Content -LiteralPath $export) {
    if ($line -match '^\s*(\w+)\s*=\s*(.*?)\s*$') { $current[$Matches[1]] = $Matches[2] }
}
Remove-Item -LiteralPath $export -Force
foreach ($s in $systemAccess) {
    if ("$($current[$s[1]])" -ne "$($s[2])") { $failures += "CIS $($s[0]): $($s[1]) is '$($current[$s[1]])', expected $($s[2])" }
}
foreach ($s in $registry) {
    $actual = $null
    if (Test-Path -LiteralPath $s[1]) {
        $property = (Get-ItemProperty -LiteralPath $s[1]).PSObject.Properties[$s[2]]
        if ($null -ne $property) { $actual = $property.Value }
    }
    if ("$actual" -ne "$($s[3])") { $failures += "CIS $($s[0]): $($s[1])\$($s[2]) is '$actual', expected $($s[3])" }
}
foreach ($s in $audit) {
    $row = & auditpol.exe /get "/subcategory:$($s[1])" /r | Where-Object { $_ } | ConvertFrom-Csv
    if ($LASTEXITCODE -ne 0) { throw "windows-baseline: auditpol /get for $($s[1]) exited with $LASTEXITCODE" }
    $inclusion = "$($row.'Inclusion Setting')"
    if (($s[2] -and $inclusion -notmatch 'Success') -or ($s[3] -and $inclusion -notmatch 'Failure')) {
        $failures += "CIS $($s[0]): audit $($s[1]) is '$inclusion'"
    }
}
foreach ($s in $firewall) {
    $state = Get-NetFirewallProfile -Profile $s[1]
    if ($s[2] -eq 'Enabled' -and "$($state.Enabled)" -ne 'True') { $failures += "CIS $($s[0]): firewall $($s[1]) profile is off" }
    if ($s[2] -eq 'DefaultInboundAction' -and "$($state.DefaultInboundAction)" -ne 'Block') {
        $failures += "CIS $($s[0]): firewall $($s[1]) inbound default is $($state.DefaultInboundAction)"
    }
}
if ($failures.Count -gt 0) {
    $failures | ForEach-Object { Write-Output "windows-baseline: $_" }
    throw "windows-baseline: $($failures.Count) setting(s) not in force"
}
Write-Output "windows-baseline: all $($systemAccess.Count + $registry.Count + $audit.Count + $firewall.Count) settings in force"
