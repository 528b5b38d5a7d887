# Prove a STIG CAT II setting the AWS component applies is in force: NTLMv2 only (LmCompatibilityLevel 5).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa'
$level = (Get-ItemProperty -LiteralPath $key).PSObject.Properties['LmCompatibilityLevel']
if ($null -eq $level -or [int]$level.Value -ne 5) {
    throw 'aws-stig: LmCompatibilityLevel is not 5 (NTLMv2 only); the STIG component did not apply'
}
Write-Output 'aws-stig: LmCompatibilityLevel 5 in force'
