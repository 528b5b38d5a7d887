# Run the flavour's Pester suite (embedded in GI_PARAM_SUITE); fail on any failure or on no tests.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

if (-not $env:GI_PARAM_SUITE) {
    throw 'image-tests: the suite is empty (parameter suite)'
}
$pester = Get-Module -ListAvailable -Name Pester | Sort-Object Version -Descending | Select-Object -First 1
if ($null -eq $pester) {
    throw 'image-tests: Pester is not installed (Windows Server ships it; was it removed?)'
}
Import-Module -Name $pester.Path -Force

$folder = Join-Path $env:ProgramData "golden-images-image-tests-$PID"
New-Item -ItemType Directory -Path $folder -Force | Out-Null
try {
    $suite = Join-Path $folder 'image.Tests.ps1'
    Set-Content -LiteralPath $suite -Value $env:GI_PARAM_SUITE -Encoding UTF8
    Write-Output "image-tests: running the suite with Pester $($pester.Version)"
    if ($pester.Version.Major -ge 5) {
        $result = Invoke-Pester -Path $suite -PassThru -Output Detailed
    } else {
        $result = Invoke-Pester -Script $suite -PassThru
    }
} finally {
    Remove-Item -LiteralPath $folder -Recurse -Force
}
if ($result.FailedCount -gt 0) {
    throw "image-tests: $($result.FailedCount) test(s) failed, $($result.PassedCount) passed"
}
if ($result.PassedCount -eq 0) {
    throw 'image-tests: the suite ran no test'
}
Write-Output "image-tests: $($result.PassedCount) passed, 0 failed"
