# Apply the Windows CIS Level 1 baseline: account policies, security options, audit policy, firewall.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# The setting tables ($systemAccess, $registry, $audit, $firewall) come from settings.ps1.

$work = 'C:\golden-images\windows-baseline'
New-Item -ItemType Directory -Path $work -Force | Out-Null
$inf = Join-Path $work 'baseline.inf'
$template = @('[Unicode]', 'Unicode=yes', '[System Access]')
$template += $systemAccess | ForEach-Object { "$($_[1]) = $($_[2])" }
$template += @('[Version]', 'signature="$CHICAGO$"', 'Revision=1')
Set-Content -LiteralPath $inf -Value $template -Encoding Unicode
$log = Join-Path $work 'secedit.log'
& secedit.exe /configure /db (Join-Path $work 'baseline.sdb') /cfg $inf /areas SECURITYPOLICY /log $log /quiet
if ($LASTEXITCODE -ne 0) {
    if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Tail 40 | Write-Output }
    throw "windows-baseline: secedit /configure exited with $LASTEXITCODE"
}
$systemAccess | ForEach-Object { Write-Output "windows-baseline: CIS $($_[0]) $($_[1]) = $($_[2])" }

foreach ($s in $registry) {
    if (-not (Test-Path -LiteralPath $s[1])) { New-Item -Path $s[1] -Force | Out-Null }
    $type = if ($s[3] -is [string]) { 'String' } else { 'DWord' }
    New-ItemProperty -LiteralPath $s[1] -Name $s[2] -PropertyType $type -Value $s[3] -Force | Out-Null
    Write-Output "windows-baseline: CIS $($s[0]) $($s[1])\$($s[2]) = $($s[3])"
}

foreach ($s in $audit) {
    $arguments = @('/set', "/subcategory:$($s[1])")
    if ($s[2]) { $arguments += '/success:enable' }
    if ($s[3]) { $arguments += '/failure:enable' }
    & auditpol.exe @arguments
    if ($LASTEXITCODE -ne 0) { throw "windows-baseline: auditpol $($arguments -join ' ') exited with $LASTEXITCODE" }
    Write-Output "windows-baseline: CIS $($s[0]) audit $($s[1])"
}

foreach ($name in @($firewall | ForEach-Object { $_[1] } | Select-Object -Unique)) {
    Set-NetFirewallProfile -Profile $name -Enabled True -DefaultInboundAction Block
    Write-Output "windows-baseline: firewall $name profile on, inbound blocked by default"
}
Remove-Item -LiteralPath $work -Recurse -Force
Write-Output 'windows-baseline: applied'
