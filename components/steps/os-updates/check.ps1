# Prove Windows Update has nothing left to install (preview updates and excluded KBs aside).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$excluded = @()
if ($env:GI_PARAM_EXCLUDE) { $excluded = $env:GI_PARAM_EXCLUDE -split '\s+' | Where-Object { $_ } }

$session = New-Object -ComObject Microsoft.Update.Session
$searcher = $session.CreateUpdateSearcher()
$result = $searcher.Search("IsInstalled=0 and IsHidden=0 and Type='Software'")
$pending = @($result.Updates | Where-Object {
    $_.Title -notlike '*Preview*' -and
    -not ($_.KBArticleIDs | Where-Object { $excluded -contains "KB$_" })
})
if ($pending.Count -gt 0) {
    $pending | ForEach-Object { Write-Error -ErrorAction Continue "pending update: $($_.Title)" }
    throw "os-updates: $($pending.Count) update(s) still pending"
}
$rebootKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
if (Test-Path $rebootKey) {
    throw 'os-updates: a restart is still pending after the final restart'
}
Write-Output 'os-updates: no pending Windows updates'
