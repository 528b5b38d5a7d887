# Prove the CloudWatch agent is installed, reports its version, and is not running.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$folder = Join-Path $env:ProgramFiles 'Amazon\AmazonCloudWatchAgent'
$ctl = Join-Path $folder 'amazon-cloudwatch-agent-ctl.ps1'
if (-not (Test-Path -LiteralPath $ctl -PathType Leaf)) {
    throw "cloudwatch-agent: $ctl is missing"
}
$versionFile = Join-Path $folder 'CWAGENT_VERSION'
if (Test-Path -LiteralPath $versionFile) {
    Write-Output "cloudwatch-agent: version $((Get-Content -LiteralPath $versionFile -Raw).Trim())"
}
$service = Get-Service -Name 'AmazonCloudWatchAgent'
if ($service.Status -ne 'Stopped') {
    throw "cloudwatch-agent: service AmazonCloudWatchAgent is $($service.Status); it starts at boot once configured"
}
if ("$($service.StartType)" -eq 'Automatic') {
    Write-Warning 'cloudwatch-agent: AmazonCloudWatchAgent is set to Automatic by the AWS component; it has no configuration until boot'
}
Write-Output "cloudwatch-agent: service AmazonCloudWatchAgent stopped ($($service.StartType))"
