# Run the flavour's Pester suite (embedded in GI_PARAM_SUITE, or a build asset: GI_ASSET_TESTS),
# write its results as NUnit XML, and fail when that file is missing or empty, on any failure
# or on no tests.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$framework = if ($env:GI_PARAM_FRAMEWORK) { $env:GI_PARAM_FRAMEWORK } else { 'pester' }
if ($framework -ne 'pester') {
    throw "image-tests: framework '$framework' does not run on Windows (use pester)"
}
if (-not $env:GI_PARAM_SUITE -and -not $env:GI_ASSET_TESTS) {
    throw 'image-tests: the suite is empty (parameter suite or tests)'
}
$pester = Get-Module -ListAvailable -Name Pester | Sort-Object Version -Descending | Select-Object -First 1
if ($null -eq $pester) {
    throw 'image-tests: Pester is not installed (Windows Server ships it; was it removed?)'
}
Import-Module -Name $pester.Path -Force

$folder = Join-Path $env:ProgramData "golden-images-image-tests-$PID"
New-Item -ItemType Directory -Path $folder -Force | Out-Null
$results = Join-Path $folder 'results.xml'
try {
    if ($env:GI_ASSET_TESTS) {
        # S3Download verifies nothing: the archive is used only with the pinned sha256.
        $actual = (Get-FileHash -LiteralPath $env:GI_ASSET_TESTS -Algorithm SHA256).Hash.ToLowerInvariant()
        if ($actual -ne $env:GI_ASSET_TESTS_SHA256) {
            throw "image-tests: the suite archive has sha256 $actual, expected $env:GI_ASSET_TESTS_SHA256"
        }
        $unpacked = Join-Path $folder 'suite'
        New-Item -ItemType Directory -Path $unpacked -Force | Out-Null
        & "$env:SystemRoot\System32\tar.exe" -xzf $env:GI_ASSET_TESTS -C $unpacked
        if ($LASTEXITCODE -ne 0) { throw "image-tests: tar could not unpack the suite (exit code $LASTEXITCODE)" }
        $suite = $unpacked
    } else {
        $suite = Join-Path $folder 'image.Tests.ps1'
        Set-Content -LiteralPath $suite -Value $env:GI_PARAM_SUITE -Encoding UTF8
    }
    Write-Output "image-tests: running the suite with Pester $($pester.Version)"
    if ($pester.Version.Major -ge 5) {
        $configuration = New-PesterConfiguration
        $configuration.Run.Path = $suite
        $configuration.Run.PassThru = $true
        $configuration.Output.Verbosity = 'Detailed'
        $configuration.TestResult.Enabled = $true
        $configuration.TestResult.OutputPath = $results
        $result = Invoke-Pester -Configuration $configuration
    } else {
        $result = Invoke-Pester -Script $suite -PassThru -OutputFile $results -OutputFormat NUnitXml
    }
    if (-not (Test-Path -LiteralPath $results) -or (Get-Item -LiteralPath $results).Length -eq 0) {
        throw 'image-tests: Pester wrote no results file'
    }
    if ($result.FailedCount -gt 0) {
        throw "image-tests: $($result.FailedCount) test(s) failed, $($result.PassedCount) passed"
    }
    if ($result.PassedCount -eq 0) {
        throw 'image-tests: the suite ran no test'
    }
    Write-Output "image-tests: $($result.PassedCount) passed, 0 failed"
    if ($env:GI_ASSET_TESTS) { Remove-Item -LiteralPath $env:GI_ASSET_TESTS -Force }
} finally {
    Remove-Item -LiteralPath $folder -Recurse -Force
}
