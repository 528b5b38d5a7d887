# Remove build leftovers and caches so the image is small and ready for generalization.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

function Remove-Leftovers {
    param([string]$Path, [int]$OlderThanDays = -1)
    if (-not (Test-Path -LiteralPath $Path)) { return }
    $cutoff = (Get-Date).AddDays(-[Math]::Max($OlderThanDays, 0))
    $removed = 0
    $busy = @()
    foreach ($item in @(Get-ChildItem -LiteralPath $Path -Force)) {
        if ($OlderThanDays -ge 0 -and $item.LastWriteTime -gt $cutoff) { continue }
        try {
            Remove-Item -LiteralPath $item.FullName -Recurse -Force
            $removed++
        } catch [System.IO.IOException], [System.UnauthorizedAccessException] {
            $busy += $item.FullName
        }
    }
    Write-Output "cleanup: removed $removed item(s) from $Path"
    if ($busy.Count -gt 0) {
        Write-Output "cleanup: $($busy.Count) item(s) in use and kept: $($busy -join ', ')"
    }
}

# This project's own downloads and logs.
if (Test-Path -LiteralPath 'C:\golden-images') {
    Remove-Item -LiteralPath 'C:\golden-images' -Recurse -Force
    Write-Output 'cleanup: removed C:\golden-images'
}

# Windows Update's download cache (the updates are installed).
$wuauserv = Get-Service -Name wuauserv
if ($wuauserv.Status -ne 'Stopped') { Stop-Service -Name wuauserv -Force }
Remove-Leftovers -Path (Join-Path $env:windir 'SoftwareDistribution\Download')

# Temporary files from before this build (the build's own may still be in use by the build service).
Remove-Leftovers -Path (Join-Path $env:windir 'Temp') -OlderThanDays 1
Remove-Leftovers -Path $env:TEMP -OlderThanDays 1

# Queued error reports.
Remove-Leftovers -Path (Join-Path $env:ProgramData 'Microsoft\Windows\WER\ReportQueue')

if ($env:GI_PARAM_COMPONENT_CLEANUP -eq 'true') {
    & dism.exe /Online /Cleanup-Image /StartComponentCleanup /Quiet /NoRestart
    if ($LASTEXITCODE -notin @(0, 3010)) {
        throw "cleanup: DISM /StartComponentCleanup exited with $LASTEXITCODE"
    }
    Write-Output 'cleanup: superseded components removed'
}

# Event logs: start the image with empty logs. Logs that cannot be cleared are named.
$logs = @(& wevtutil.exe el)
if ($LASTEXITCODE -ne 0) { throw "cleanup: wevtutil el exited with $LASTEXITCODE" }
$failed = @()
foreach ($log in $logs) {
    # In a child scope: a log that refuses clearing writes to stderr, which must not stop the loop.
    & { $ErrorActionPreference = 'Continue'; & wevtutil.exe cl "$log" 2>&1 | Out-Null }
    if ($LASTEXITCODE -ne 0) { $failed += $log }
}
Write-Output "cleanup: event logs cleared ($($failed.Count) could not be cleared: $($failed -join ', '))"
